"""The redact filter: declarative patterns that mask secrets before any sink sees them."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

try:  # Hyperscan finds the lines worth a closer look in one pass (x86_64 and macOS wheels)
    import hyperscan
except ImportError:  # pragma: no cover - the fallback is tested by forcing it
    hyperscan = None  # type: ignore[assignment]

from osops import urls
from osops.log import secrets
from osops.log.base import Filter
from osops.log.record import LogRecord

MASK = b"***"


def _shortest(names: tuple[str, ...]) -> tuple[bytes, ...]:
    """The names no other name is a suffix of: what ends in admin_password ends in password."""
    found = {n.encode() for n in names}
    return tuple(sorted(n for n in found if not any(n != m and n.endswith(m) for m in found)))


#: Every secret name, lower case, none a suffix of another (those are implied).
KEYS: tuple[bytes, ...] = _shortest(secrets.names())
_PROSE = tuple(k.encode() for k in secrets.PROSE_KEYS)
_SCHEMES = frozenset(s.encode() for s in secrets.AUTH_SCHEMES)
_HASHES = tuple(h.encode() for h in secrets.HASH_PREFIXES)
_AUTHORIZATION = b"authorization"

# How a value follows a name (the name's digits first). Each is tried where the
# name ends; the Hyperscan expressions below must match wherever these do.
_ASSIGN = re.compile(rb"""[0-9]*(\\*['"])?[ \t]*([:=])[ \t]*""")
_TUPLE = re.compile(
    rb"""[0-9]*\\*['"][ \t]*,[ \t]*[ub]?\\*['"]--?[a-z][a-z0-9-]*\\*['"][ \t]*,[ \t]*"""
)
_FLAG = re.compile(rb"""[0-9]*[ \t]+--?[a-z][a-z0-9-]*[ \t]+""")
_SPACE = re.compile(rb"""[0-9]*[ \t]+""")
_XML = re.compile(rb"""[0-9]*(?:[ \t][^<>\r]*)?>([^<\r]*)""")
# A value: quoted (masked inside the quotes; a quote may be escaped, as in
# JSON inside JSON), else bare, up to a space or a quote.
_QUOTED = re.compile(
    rb"""[ub]?(?:(['"])((?:\\[^\r]?|(?!\1)[^\\\r])*)(?:\1|(?=\r)|\Z)"""
    rb"""|(\\+['"])((?:(?!\3)[^\r])*)(?:\3|(?=\r)|\Z))"""
)
_BARE = re.compile(rb"""[^\s'"]+""")
_FLAG_BARE = re.compile(rb"""[^\s'"=]+""")  # --password S: oslo.utils stops at '=' too
_CLOSING = b",;)]}"  # after a bare value, the syntax around it, not its end
_OPENING = {ord(")"): b"(", ord("]"): b"[", ord("}"): b"{"}
_NOT_VALUES = frozenset({b"null", b"none", b"true", b"false"})  # after ':', no secret
_NAME = re.compile(rb"[a-z0-9_.\-]*")
_TAG = re.compile(rb"[a-z0-9_.:\-]*")  # <ns1:password>, as suds logs SOAP
_LONGEST_NAME = 128
_DIGITS = frozenset(b"0123456789")
_AFTER_NAME = frozenset(b"\\'\" \t:=>")  # what every form starts with, after the digits
_PARAMS = re.compile(rb"""(?:[a-z0-9_-]+=(?:"[^"\r]*"|[^\s,'"]*)[ \t]*,?[ \t]*)+""")
_TOKEN68 = re.compile(rb"""[^\s'",;)\]}]+""")
_SPACES = b" \t"

# Secrets found by their own shape; the whole match is masked (but see _begin and urls).
_STANDALONE = secrets.STANDALONE
_STANDALONE_MATCH = [re.compile(shape.regex.encode()).match for shape in _STANDALONE]
_URL, _CEPH, _BEGIN = (
    [shape.name for shape in _STANDALONE].index(name)
    for name in ("url_password", "ceph_key", "private_key")
)
_BASE64 = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789+/")
_KEY_BODY = re.compile(rb"""[a-z0-9+/]+={0,2}""")
_KEY_REGION = re.compile(rb"""(?:(?!-----end)[^'"\r])*""")
_END = b"-----end"
_PEM_HEADERS = (b"proc-type:", b"dek-info:")
_PEM_LINE = 16  # PEM lines have 64 characters, OpenSSH's 70; the last fewer, padded or not


# Names that are in nearly every line of an API service's log (keystonemiddleware's
# auth_token, *_token_lock): Hyperscan looks for them with what may follow them, so
# that only lines worth it are searched. Every other name is a plain literal: a
# database of a form per name takes ten times as long to compile, at every start.
_BUSY = frozenset({b"token"})
# What may follow a name: name=, name:, 'name':, 'name', ..., name -v S,
# name 'S', <name attr>, <name>.
_FORMS = (
    r"""[0-9]*(?:\\*['"]?[ \t]*[:=]|\\*['"][ \t]*,|[ \t]+(?:--?[a-z]|[ub]?\\*['"])"""
    r"""|(?:[ \t][^<>\n]*)?>)"""
)
# --name S: the name starts with a dash (--os-token S). A class before a name
# makes Hyperscan compile ten times as long when it is in one database with
# the literals: it has a database of its own.
_FLAG_FORM = r"""-[a-z0-9_.\-]*{name}[0-9]*[ \t]+[^\s'"=]"""


def _expressions() -> list[list[tuple[int, bytes]]]:
    """(id, Hyperscan expression) pairs, by database: ids below len(KEYS) are names."""
    found: list[tuple[int, str]] = []
    flags: list[tuple[int, str]] = []
    for index, key in enumerate(KEYS):
        name = re.escape(key.decode())
        if key in _BUSY:
            found.append((index, name + _FORMS))
            flags.append((index, _FLAG_FORM.format(name=name)))
        else:
            found.append((index, name))
    for offset, shape in enumerate(_STANDALONE):
        found.append((len(KEYS) + offset, shape.prefilter))
    return [[(index, text.encode()) for index, text in pairs] for pairs in (found, flags)]


def _literals() -> list[tuple[int, bytes]]:
    """What the substring search looks for: (the same ids as :func:`_expressions`, literal)."""
    found = list(enumerate(KEYS))
    return found + [(len(KEYS) + n, shape.literal.encode()) for n, shape in enumerate(_STANDALONE)]


_LITERALS = _literals()
_STANDALONE_LITERALS = [shape.literal.encode() for shape in _STANDALONE]


class Prefilter:
    """The patterns' Hyperscan expressions, compiled into databases.

    :meth:`lines` scans a text once per database and says which lines may
    hold which patterns' secrets; only those lines are searched. Compiled on
    first use, so a worker process forked afterwards inherits it.
    """

    def __init__(self) -> None:
        self._databases = []
        for pairs in _expressions():
            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            database.compile(
                expressions=[expression for _, expression in pairs],
                ids=[index for index, _ in pairs],
                elements=len(pairs),
                flags=[hyperscan.HS_FLAG_CASELESS] * len(pairs),
            )
            self._databases.append(database)
        self._local = threading.local()  # a scan needs scratch space of its own thread

    def lines(self, data: bytes) -> dict[tuple[int, int], set[int]]:
        """``(start, end)`` of each line that may hold a secret, to the patterns' ids.

        ``end`` is the index of the line's newline, or ``len(data)``.
        """
        scratches = getattr(self._local, "scratches", None)
        if scratches is None:
            scratches = self._local.scratches = [hyperscan.Scratch(d) for d in self._databases]
        hits: list[tuple[int, int]] = []
        for database, scratch in zip(self._databases, scratches, strict=True):
            database.scan(data, match_event_handler=_hit, context=hits, scratch=scratch)
        return _by_line(data, hits)


def _hit(index: int, start: int, end: int, flags: int, hits: object) -> None:
    hits.append((index, end - 1))  # type: ignore[attr-defined]


def _by_line(data: bytes, hits: list[tuple[int, int]]) -> dict[tuple[int, int], set[int]]:
    """Group (id, position) hits by the line they fall in."""
    found: dict[tuple[int, int], set[int]] = {}
    for index, position in hits:
        end = data.find(b"\n", position)
        line = data.rfind(b"\n", 0, position) + 1, end if end >= 0 else len(data)
        found.setdefault(line, set()).add(index)
    return found


def _substring_lines(data: bytes) -> dict[tuple[int, int], set[int]]:
    """:meth:`Prefilter.lines` without Hyperscan: each line holding a pattern's literal."""
    lowered = data.lower()
    hits: list[tuple[int, int]] = []
    for index, literal in _LITERALS:
        at = lowered.find(literal)
        while at >= 0:
            hits.append((index, at))
            at = lowered.find(literal, lowered.find(b"\n", at) + 1 or len(lowered))
    return _by_line(data, hits)


_PREFILTER: list[Prefilter | None] = []  # built on first use; [None] without Hyperscan


def _prefilter() -> Prefilter | None:
    if not _PREFILTER:
        _PREFILTER.append(Prefilter() if hyperscan is not None else None)
    return _PREFILTER[0]


def prefilter() -> None:
    """Compile the prefilter now (if Hyperscan is there): processes forked later inherit it."""
    _prefilter()


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
        prefilter = _prefilter()
        found = prefilter.lines(data) if prefilter is not None else _substring_lines(data)
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
                _keyed(line, at, at + len(key), key, base, spans)
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


def _start_of_name(line: bytes, at: int, chars: re.Pattern[bytes]) -> int:
    """Where the name (a run of ``chars``) that ends with the key found at ``at`` begins.

    Looked for backwards in a window as long as a name gets.
    """
    window = line[max(0, at - _LONGEST_NAME) : at][::-1]
    return at - chars.match(window).end()  # type: ignore[union-attr]


def _keyed(
    line: bytes, at: int, after: int, key: bytes, base: int, spans: list[tuple[int, int]]
) -> None:
    """Mask the value that follows a secret's name (the key found at ``at``)."""
    first = after
    while first < len(line) and line[first] in _DIGITS:
        first += 1
    if first == len(line) or line[first] not in _AFTER_NAME:
        return  # the key is part of a longer name (token_lock) or no value follows
    found: tuple[int, int] | None = None
    if (match := _ASSIGN.match(line, after)) is not None:
        found = _assigned(line, at, match, key)
    if found is None and (match := _TUPLE.match(line, after)) is not None:
        found = _quoted(line, match.end())
    if found is None and (match := _FLAG.match(line, after)) is not None:
        found = _quoted(line, match.end()) or _bare(line, match.end())
    if found is None and (match := _SPACE.match(line, after)) is not None:
        found = _quoted(line, match.end())
        if found is None and line[_start_of_name(line, at, _NAME)] == 0x2D:  # "--password S"
            bare = _FLAG_BARE.match(line, match.end())
            found = _trimmed(line, *bare.span()) if bare else None
    if found is None and (match := _XML.match(line, after)) is not None:
        name = _start_of_name(line, at, _TAG)
        if name > 0 and line[name - 1] == 0x3C:  # "<", and not the "</" of a closing tag
            found = match.span(1)
    if found is not None and found[1] > found[0]:
        spans.append((base + found[0], base + found[1]))


def _in_query(line: bytes, at: int) -> bool:
    """Whether the name found at ``at`` is a query string's parameter (after ? or &)."""
    name = _start_of_name(line, at, _NAME)
    return name > 0 and line[name - 1] in b"?&"


def _quoted(line: bytes, at: int) -> tuple[int, int] | None:
    """The inside of a quoted value starting at ``at``, or None if there is none."""
    match = _QUOTED.match(line, at)
    if match is None:
        return None
    return match.span(2) if match.group(1) is not None else match.span(4)


def _bare(line: bytes, at: int) -> tuple[int, int] | None:
    match = _BARE.match(line, at)
    return _trimmed(line, *match.span()) if match else None


def _trimmed(line: bytes, start: int, end: int) -> tuple[int, int]:
    """A bare value without the separators and closing brackets that follow it.

    A bracket the value opened is the value's (``password={S3c}``).
    """
    while end > start and line[end - 1] in _CLOSING:
        opening = _OPENING.get(line[end - 1])
        if opening is not None and line.find(opening, start, end - 1) >= 0:
            break
        end -= 1
    return start, end


def _assigned(line: bytes, at: int, match: re.Match[bytes], key: bytes) -> tuple[int, int] | None:
    """The value after ``name = `` or ``name:`` (the name quoted or not)."""
    position = match.end()
    colon = match.group(2) == b":"
    quoted = _quoted(line, position)
    if quoted is not None:
        start, end = quoted
        if key == _AUTHORIZATION:
            start = _after_scheme(line, start, end)
        return _unhashed(line, start, end)
    bare = _BARE.match(line, position)
    if bare is None:
        return None
    start, end = _trimmed(line, *bare.span())
    closed = end < bare.end()
    value = line[start:end]
    if value.startswith(_HASHES):
        return _unhashed(line, start, end)
    if colon and (value[:1] in (b"{", b"[") or value in _NOT_VALUES):
        return None  # a structure (its members are checked on their own) or no value
    if not colon and _in_query(line, at):
        return start, min(
            x for x in (line.find(b"&", start, end), line.find(b"#", start, end), end) if x >= 0
        )
    if (key == _AUTHORIZATION or key in _PROSE) and value in _SCHEMES:
        credentials = _credentials(line, bare.end())
        if credentials is not None:
            return credentials
    if colon and match.group(1) is None and key not in _PROSE:
        # "name: value" in prose: only where the value ends the line or an item.
        rest = line[bare.end() :].lstrip(_SPACES)[:1]
        if not (closed or rest in (b"", b"\r", b"'", b'"')):
            return None
    return _unhashed(line, start, end)


def _unhashed(line: bytes, start: int, end: int) -> tuple[int, int]:
    """A value without the {SHA256} that says it is a hash (the hash is masked)."""
    for prefix in _HASHES:
        if line.startswith(prefix, start):
            return start + len(prefix), end
    return start, end


def _after_scheme(line: bytes, start: int, end: int) -> int:
    """Inside a quoted Authorization value: where the credentials after a scheme start."""
    scheme = _BARE.match(line, start, end)
    stop = scheme.end() if scheme else start
    if line[start:stop] in _SCHEMES and line[stop:end].startswith((b" ", b"\t")):
        return end - len(line[stop:end].lstrip(_SPACES))
    return start


def _credentials(line: bytes, at: int) -> tuple[int, int] | None:
    """The credentials after ``<scheme>`` (which ends at ``at``): auth-params or a token."""
    start = at
    while start < len(line) and line[start] in _SPACES:
        start += 1
    if start == at:
        return None
    params = _PARAMS.match(line, start)
    if params is not None and b"=" in line[start : params.end()]:
        end = params.end()
        while end > start and line[end - 1] in b" \t,":
            end -= 1
        return start, end
    token = _TOKEN68.match(line, start)
    return (start, token.end()) if token else None


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


# Attributes that may carry free text; others hold parsed ids, numbers and levels.
TEXT_FIELDS = ("raw", "message", "error_message", "stack_trace", "url_path")


class Redact(Filter):
    """Mask passwords, tokens, keys and URL credentials in every text field.

    Names oslo.utils masks and more, in every shape they are logged in,
    URL passwords, Fernet, JWS and PKI tokens, Ceph keys and private key
    blocks (across lines too): the README's "Logs" section lists them.
    """

    on_error = "drop"  # a record that could not be redacted is never shipped

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        # The raw lines come in file order: a private key block may span records.
        self._lines = Scanner()

    def process(self, record: LogRecord) -> LogRecord:
        in_key = self._lines.in_key
        for attr in TEXT_FIELDS:
            value = getattr(record, attr)
            if value:
                scanner = self._lines if attr == "raw" else Scanner(in_key)
                setattr(record, attr, scanner.redact_text(value))
        return record
