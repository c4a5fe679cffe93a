"""The redact filter: declarative patterns that mask secrets before any sink sees them."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable

try:  # Hyperscan finds the places worth a regex in one pass (x86_64 and macOS wheels)
    import hyperscan
except ImportError:  # pragma: no cover - the fallback is tested by forcing it
    hyperscan = None  # type: ignore[assignment]

from osops.log.base import Filter
from osops.log.record import LogRecord

MASK = b"***"

# What follows a sensitive key: optional closing quote, ':' or '=', then the value,
# quoted (masked inside the quotes) or bare (up to a delimiter). Values opening
# a structure ('{', '[') are not secrets themselves: their members are checked.
# No pattern crosses a line end, so a block of lines redacts exactly as its
# lines one by one.
_VALUE = (
    r"""['"]?[ \t]*[:=][ \t]*u?(?:bearer[ \t]+|\{sha(?:1|256)\})?"""
    r"""(?:(['"])(?P<quoted>(?:\\.|(?!\1).)*)\1|(?P<bare>[^\s,;'")}\]{\[][^\s,;'")}\]]*))"""
)


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One kind of secret: the literal that announces it, and where its value lies.

    Patterns are written in lower case and matched against the ASCII-lower-cased
    UTF-8 bytes (the same length as the original, so spans found there are masked
    in the original). Each starts with a literal (:attr:`literal`): a fast
    substring search finds the places to try the regex at, so a text without it
    costs one scan. Where Hyperscan is installed, one pass over the text with
    every pattern's ``prefilter`` finds instead the lines worth that search.
    """

    name: str
    regex: str
    example: str  # a line holding such a secret, for tests and docs
    secret: str  # the part of ``example`` that must never survive
    groups: tuple[str, ...] = ("quoted", "bare")  # the spans to mask; () for the match
    #: A Hyperscan expression that matches wherever ``regex`` does (it may match
    #: more) and never crosses a line end; empty: the literal.
    prefilter: str = ""

    @property
    def literal(self) -> str:
        """The text every match starts with: the regex up to its first metacharacter."""
        return _LEADING_LITERAL.match(self.regex).group()  # type: ignore[union-attr]


_LEADING_LITERAL = re.compile(r"[a-z0-9_:/]+")


# The start of _VALUE, up to the ':' or '=' that every value follows.
_ASSIGN = r"""['"]?[ \t]*[:=]"""


def _key(name: str, key: str, example: str, secret: str, prefilter: str = "") -> Pattern:
    return Pattern(name, key + _VALUE, example, secret, prefilter=(prefilter or key) + _ASSIGN)


_PKI = (
    "MIIEPAYJKoZIhvcNAQcCoIIELTCCBCkCAQExCTAHBgUrDgMCGjCCApUGCSqGSIb3DQEHAaCCAoYEggKCeyJh"
    "Y2Nlc3MiOiB7InRva2VuIjogeyJpc3N1ZWRfYXQi"
)

PATTERNS: tuple[Pattern, ...] = (
    # password, passwd, passphrase and *_pass keys: one scan for "pass".
    _key(
        "password_value",
        r"pass(?:word|wd|phrase|(?<=_pass))",
        "{'username': 'admin', 'password': 'S3cr3t-Pw', 'tenant': 'demo'}",
        "S3cr3t-Pw",
        r"pass(?:word|wd|phrase)?",  # Hyperscan has no look-behind: "pass" alone too
    ),
    _key("secret_value", "secret", "metadata_proxy_shared_secret: 'Sh4red'", "Sh4red"),
    _key(
        "token_value",
        "token",
        'curl -i -H "X-Auth-Token: 0123456789abcdef0123456789abcdef" http://ctl/',
        "0123456789abcdef0123456789abcdef",
    ),
    _key("key_value", "_key", "{'os_secret_key': u'AKIAsecret', 'name': 'x'}", "AKIAsecret"),
    _key(
        "credential_value",
        "credential",
        "credential=app-cred-Secret-1",
        "app-cred-Secret-1",
    ),
    _key(
        "authorization_value",
        "authorization",
        "Authorization: Bearer eyJhbGciOi.J9.sig",
        "eyJhbGciOi.J9.sig",
    ),
    Pattern(
        "fernet_token",
        r"gaaaaa[a-z0-9_\-]{40,}={0,2}",
        "validated gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
        "gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
        (),
    ),
    Pattern("pki_token", r"mii[a-z0-9+/\-]{100,}={0,2}", "token " + _PKI, _PKI, ()),
    # transport_url may list several hosts: rabbit://u:p@h1:5672,u:p@h2:5672/
    Pattern(
        "url_credentials",
        r"""://(?:[^:/@,\s'"<>]+:[^@/,\s'"<>]*@[^,/\s'"<>]*,?)+""",
        "transport_url = rabbit://nova:Rabb1tPass@ctl1:5672,nova:Rabb1tPass@ctl2:5672/",
        "Rabb1tPass",
        ("userinfo",),
        r"""://[^:/@,\s'"<>]+:[^@/,\s'"<>]*@""",
    ),
)

_COMPILED = [(p, p.literal.encode(), re.compile(p.regex.encode()).match) for p in PATTERNS]
# A repeated group keeps only its last match; user:password@ pairs are found one by one.
_USERINFO = re.compile(rb"""(?:://|,)[^:/@,\s'"<>]+:([^@/,\s'"<>]*)@""")

# Attributes that may carry free text; others hold parsed ids, numbers and levels.
TEXT_FIELDS = ("raw", "message", "error_message", "stack_trace", "url_path")


class Prefilter:
    """Every pattern's :attr:`Pattern.prefilter`, compiled into one Hyperscan database.

    :meth:`lines` scans a text once and says which lines may hold which
    patterns' secrets; only those lines are searched. Compiled on first use,
    so a worker process forked afterwards inherits it.
    """

    def __init__(self) -> None:
        expressions = [(p.prefilter or re.escape(p.literal)).encode() for p in PATTERNS]
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=[hyperscan.HS_FLAG_CASELESS] * len(expressions),
        )
        self._local = threading.local()  # a scan needs scratch space of its own thread

    def lines(self, data: bytes) -> dict[tuple[int, int], set[int]]:
        """``(start, end)`` of each line that may hold a secret, to the patterns' indexes.

        ``end`` is -1 for a last line with no newline.
        """
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        hits: list[tuple[int, int]] = []
        self._database.scan(data, match_event_handler=_hit, context=hits, scratch=scratch)
        found: dict[tuple[int, int], set[int]] = {}
        for index, end in hits:
            line = data.rfind(b"\n", 0, end) + 1, data.find(b"\n", end)
            found.setdefault(line, set()).add(index)
        return found


def _hit(index: int, start: int, end: int, flags: int, hits: object) -> None:
    hits.append((index, end))  # type: ignore[attr-defined]


_PREFILTER: list[Prefilter | None] = []  # built on first use; [None] without Hyperscan


def _prefilter() -> Prefilter | None:
    if not _PREFILTER:
        _PREFILTER.append(Prefilter() if hyperscan is not None else None)
    return _PREFILTER[0]


def secret_spans(data: bytes) -> list[tuple[int, int]]:
    """Where the secrets in ``data`` lie: sorted, non-overlapping (start, end) pairs."""
    spans: list[tuple[int, int]] = []
    prefilter = _prefilter()
    if prefilter is None:
        _search(data.lower(), range(len(_COMPILED)), 0, spans)
    else:
        for (start, end), indexes in prefilter.lines(data).items():
            line = data[start:end] if end >= 0 else data[start:]
            _search(line.lower(), sorted(indexes), start, spans)
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


def _search(
    lowered: bytes, indexes: Iterable[int], base: int, spans: list[tuple[int, int]]
) -> None:
    """Add the spans (shifted by ``base``) of the given patterns' secrets in ``lowered``.

    ``lowered`` is ASCII-lower-cased: byte positions are the original's.
    """
    find = lowered.find
    for index in indexes:
        pattern, literal, match_at = _COMPILED[index]
        at = find(literal)
        while at >= 0:
            match = match_at(lowered, at)
            if match is None:
                at = find(literal, at + 1)
                continue
            at = find(literal, match.end())
            if pattern.groups == ("userinfo",):
                for inner in _USERINFO.finditer(lowered, match.start(), match.end()):
                    if inner.end(1) > inner.start(1):
                        spans.append((base + inner.start(1), base + inner.end(1)))
            elif not pattern.groups:
                spans.append((base + match.start(), base + match.end()))
            else:
                for group in pattern.groups:
                    start, end = match.span(group)
                    if end > start:
                        spans.append((base + start, base + end))


def mask(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``data`` with every span replaced by the mask."""
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return MASK.join(pieces)


def redact_bytes(data: bytes) -> bytes:
    """Mask every secret the patterns know in UTF-8 bytes (one line or many)."""
    spans = secret_spans(data)
    return mask(data, spans) if spans else data


def redact_text(text: str) -> str:
    """Mask every secret the patterns know in one string."""
    data = text.encode("utf-8", "surrogatepass")
    spans = secret_spans(data)
    return mask(data, spans).decode("utf-8", "surrogatepass") if spans else text


class Redact(Filter):
    """Mask passwords, tokens, keys and URL credentials in every text field."""

    on_error = "drop"  # a record that could not be redacted is never shipped

    def process(self, record: LogRecord) -> LogRecord:
        for attr in TEXT_FIELDS:
            value = getattr(record, attr)
            if value:
                setattr(record, attr, redact_text(value))
        return record
