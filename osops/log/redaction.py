"""The public redaction API: find secrets in bytes or text and mask them.

What the redact filter does to each record, for code that must apply the same
redaction itself (a fused chain reading a file's bytes): :class:`Scanner`,
:func:`secret_spans`, :func:`mask`, :func:`redact_bytes`, :func:`redact_text`,
:func:`continues_key` and :func:`prefilter`. What counts as a secret is data,
in :mod:`osops.log.secrets`; the search is split between
:mod:`osops.log.prefilter` (which lines) and :mod:`osops.log.shapes` (where a
named value lies), which are not part of the API.
"""

from __future__ import annotations

import re

from osops import urls
from osops.log import prefilter as _prefilter
from osops.log.prefilter import KEYS, STANDALONE
from osops.log.shapes import keyed

__all__ = [
    "MASK",
    "Scanner",
    "continues_key",
    "mask",
    "prefilter",
    "redact_bytes",
    "redact_text",
    "secret_spans",
]

MASK = b"***"

# Secrets found by their own shape; the whole match is masked (but see _begin and urls).
_STANDALONE_MATCH = [re.compile(shape.regex.encode()).match for shape in STANDALONE]
_STANDALONE_LITERALS = [shape.literal.encode() for shape in STANDALONE]
_URL, _CEPH, _BEGIN = (
    [shape.name for shape in STANDALONE].index(name)
    for name in ("url_password", "ceph_key", "private_key")
)
_BASE64 = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789+/")
_KEY_BODY = re.compile(rb"""[a-z0-9+/]+={0,2}""")
_KEY_REGION = re.compile(rb"""(?:(?!-----end)[^'"\r])*""")
_END = b"-----end"
_PEM_HEADERS = (b"proc-type:", b"dek-info:")
_PEM_LINE = 16  # PEM lines have 64 characters, OpenSSH's 70; the last fewer, padded or not


def prefilter() -> None:
    """Compile the prefilter now (if Hyperscan is there): processes forked later inherit it."""
    _prefilter.compile_now()


class Scanner:
    """Finds secrets in text, line after line; remembers a private key block left open.

    A key block's lines between ``-----BEGIN ... PRIVATE KEY-----`` and its
    END line hold nothing but base64 (after a log line's prefix, when each
    line has one): the last word of each is masked. The block ends at its END
    line or at the first line that could not be part of it, so a block cut
    short never hides the lines after it.
    """

    def __init__(self, in_key: bool = False) -> None:
        #: Whether the text scanned last ended inside a private key block.
        self.in_key = in_key

    def spans(self, data: bytes) -> list[tuple[int, int]]:
        """Where the secrets in ``data`` lie: sorted, non-overlapping (start, end) pairs."""
        found = _prefilter.lines(data)
        spans: list[tuple[int, int]] = []
        done = self._key_body(data, 0, spans) if self.in_key else 0
        for start, end in sorted(found):
            if start < done:  # a line of a key block, masked already
                continue
            lowered = data[start:end].lower()
            if _search(lowered, found[start, end], start, spans):
                done = self._key_body(data, end + 1, spans)
        return _merged(spans)

    def _key_body(self, data: bytes, start: int, spans: list[tuple[int, int]]) -> int:
        """Mask a key block's lines from ``start``; returns where it (or the data) ended."""
        self.in_key = True
        while start < len(data):
            end = data.find(b"\n", start)
            end = end if end >= 0 else len(data)
            line = data[start:end].lower()
            if _END in line or not continues_key(line):
                self.in_key = False
                return start
            first, last = _last_word(line)
            if first < last and not _pem_header(line):
                spans.append((start + first, start + last))
            start = end + 1
        return len(data)

    def redact_text(self, text: str) -> str:
        """``text`` with every secret masked; a key block may go on from the text before."""
        data = text.encode("utf-8", "surrogatepass")
        spans = self.spans(data)
        return mask(data, spans).decode("utf-8", "surrogatepass") if spans else text


def continues_key(line: bytes) -> bool:
    """Whether a line (lower-cased, no newline) could be inside a private key block.

    Blank, a PEM header, the END line, or ending in a word of base64 only that
    is the whole line, or (after a log line's prefix) as long as a PEM line or
    padded as its last. A file is never cut for parallel parsing before such
    a line: the pieces then agree with a reading from the start of the file
    on where key blocks are.
    """
    first, last = _last_word(line)
    if first == last or _END in line or _pem_header(line):
        return True
    match = _KEY_BODY.match(line, first)
    if match is None or match.end() != last:
        return False
    return last - first >= _PEM_LINE or line[last - 1] == 0x3D or not line[:first].strip()


def _last_word(line: bytes) -> tuple[int, int]:
    """Where the last word of a line lies (equal ends: the line is blank)."""
    last = len(line.rstrip(b" \t\r"))
    first = max(line.rfind(b" ", 0, last), line.rfind(b"\t", 0, last)) + 1
    return first, last


def _pem_header(line: bytes) -> bool:
    return any(header in line for header in _PEM_HEADERS)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if len(spans) < 2:
        return spans
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start < last_end:  # inside or overlapping a span already masked
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def _search(line: bytes, indexes: set[int], base: int, spans: list[tuple[int, int]]) -> bool:
    """Add the spans (shifted by ``base``) of the given patterns' secrets in one line.

    ``line`` is ASCII-lower-cased (byte positions are the original's) and
    holds no newline. Returns whether a private key block is left open at its end.
    """
    opened = False
    keys = len(KEYS)
    for index in indexes:
        if index < keys:
            key = KEYS[index]
            at = line.find(key)
            while at >= 0:
                keyed(line, at, at + len(key), key, base, spans)
                at = line.find(key, at + 1)
            continue
        which = index - keys
        literal = _STANDALONE_LITERALS[which]
        at = line.find(literal)
        while at >= 0:
            if which == _URL:
                spans += [(base + s, base + e) for s, e in urls.password_spans(line, at)]
            else:
                match = _STANDALONE_MATCH[which](line, at)
                if match is None:
                    pass
                elif which == _BEGIN:
                    opened = _begin(line, match.end(), base, spans)
                elif which != _CEPH or _alone(line, at, match.end()):
                    spans.append((base + at, base + match.end()))
            at = line.find(literal, at + 1)
    return opened


def _alone(line: bytes, start: int, end: int) -> bool:
    """Whether a base64 run is not part of a longer one."""
    return (start == 0 or line[start - 1] not in _BASE64) and (
        end == len(line) or line[end] not in _BASE64
    )


def _begin(line: bytes, at: int, base: int, spans: list[tuple[int, int]]) -> bool:
    """Mask a key block's text after its BEGIN line on the same line; whether it goes on."""
    region = _KEY_REGION.match(line, at)
    end = region.end() if region else at
    text = line[at:end]
    stripped = text.strip(b" \t")
    if stripped:
        first = at + len(text) - len(text.lstrip(b" \t"))
        spans.append((base + first, base + first + len(stripped)))
    return not line[end:].strip(b"\r")  # the line ended (a file's \r\n is no text)


def mask(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``data`` with every span replaced by the mask."""
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return MASK.join(pieces)


def secret_spans(data: bytes) -> list[tuple[int, int]]:
    """Where the secrets in ``data`` (one line or many) lie: sorted (start, end) pairs."""
    return Scanner().spans(data)


def redact_bytes(data: bytes) -> bytes:
    """Mask every secret the patterns know in UTF-8 bytes (one line or many)."""
    spans = secret_spans(data)
    return mask(data, spans) if spans else data


def redact_text(text: str) -> str:
    """Mask every secret the patterns know in one string."""
    return Scanner().redact_text(text)
