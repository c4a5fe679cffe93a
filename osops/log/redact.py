"""The redact filter: declarative patterns that mask secrets before any sink sees them."""

from __future__ import annotations

import dataclasses
import re

from osops.log.base import Filter
from osops.log.record import LogRecord

MASK = "***"

# What follows a sensitive key: optional closing quote, ':' or '=', then the value,
# quoted (masked inside the quotes) or bare (up to a delimiter). Values opening
# a structure ('{', '[') are not secrets themselves: their members are checked.
_VALUE = (
    r"""['"]?\s*[:=]\s*u?(?:bearer\s+|\{sha(?:1|256)\})?"""
    r"""(?:(['"])(?P<quoted>(?:\\.|(?!\1).)*)\1|(?P<bare>[^\s,;'")}\]{\[][^\s,;'")}\]]*))"""
)


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One kind of secret: the literal that announces it, and where its value lies.

    Patterns are written in lower case and matched against the lower-cased
    text; the spans found are masked in the original. A literal ``trigger``
    lets a text without it skip the pattern entirely, and a pattern that
    starts with a literal is found by the regex engine's fast literal scan.
    """

    name: str
    trigger: str
    regex: str
    example: str  # a line holding such a secret, for tests and docs
    secret: str  # the part of ``example`` that must never survive
    groups: tuple[str, ...] = ("quoted", "bare")  # the spans to mask; () for the match


def _key(word: str, example: str, secret: str) -> Pattern:
    return Pattern(f"{word.strip('_')}_value", word, re.escape(word) + _VALUE, example, secret)


_PKI = (
    "MIIEPAYJKoZIhvcNAQcCoIIELTCCBCkCAQExCTAHBgUrDgMCGjCCApUGCSqGSIb3DQEHAaCCAoYEggKCeyJh"
    "Y2Nlc3MiOiB7InRva2VuIjogeyJpc3N1ZWRfYXQi"
)

PATTERNS: tuple[Pattern, ...] = (
    _key(
        "password", "{'username': 'admin', 'password': 'S3cr3t-Pw', 'tenant': 'demo'}", "S3cr3t-Pw"
    ),
    _key("passwd", "mysql -u nova --passwd=Pw-Passwd-1 nova", "Pw-Passwd-1"),
    _key("_pass", "rabbit_pass=plainPw", "plainPw"),
    _key("secret", "metadata_proxy_shared_secret: 'Sh4red'", "Sh4red"),
    _key(
        "token",
        'curl -i -H "X-Auth-Token: 0123456789abcdef0123456789abcdef" http://ctl/',
        "0123456789abcdef0123456789abcdef",
    ),
    _key("_key", "{'os_secret_key': u'AKIAsecret', 'name': 'x'}", "AKIAsecret"),
    _key("credential", "credential=app-cred-Secret-1", "app-cred-Secret-1"),
    _key("passphrase", "passphrase = Luks-Pass-9", "Luks-Pass-9"),
    _key("authorization", "Authorization: Bearer eyJhbGciOi.J9.sig", "eyJhbGciOi.J9.sig"),
    Pattern(
        "fernet_token",
        "gaaaaa",
        r"gaaaaa[a-z0-9_\-]{40,}={0,2}",
        "validated gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
        "gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
        (),
    ),
    Pattern("pki_token", "mii", r"mii[a-z0-9+/\-]{100,}={0,2}", "token " + _PKI, _PKI, ()),
    # transport_url may list several hosts: rabbit://u:p@h1:5672,u:p@h2:5672/
    Pattern(
        "url_credentials",
        "://",
        r"""://(?:[^:/@,\s'"<>]+:(?P<password>[^@/,\s'"<>]*)@[^,/\s'"<>]*,?)+""",
        "transport_url = rabbit://nova:Rabb1tPass@ctl1:5672,nova:Rabb1tPass@ctl2:5672/",
        "Rabb1tPass",
        ("password",),
    ),
)

_COMPILED = [(p, re.compile(p.regex), re.compile(p.regex, re.IGNORECASE)) for p in PATTERNS]
# A repeated group keeps only its last match; user:password@ pairs are found one by one.
_USERINFO = re.compile(r"""(?:://|,)[^:/@,\s'"<>]+:([^@/,\s'"<>]*)@""")

# Attributes that may carry free text; others hold parsed ids, numbers and levels.
TEXT_FIELDS = ("raw", "message", "error_message", "stack_trace", "url_path")


def _spans(text: str) -> list[tuple[int, int]]:
    lowered = text.lower()
    same_length = len(lowered) == len(text)
    spans: list[tuple[int, int]] = []
    for pattern, regex, regex_any_case in _COMPILED:
        if pattern.trigger not in lowered:
            continue
        # Lower-casing changes the length of a few non-ASCII strings; then the
        # spans must come from the original text.
        haystack, finder = (lowered, regex) if same_length else (text, regex_any_case)
        if pattern.name == "url_credentials":
            for match in finder.finditer(haystack):
                for inner in _USERINFO.finditer(haystack, match.start(), match.end()):
                    if inner.end(1) > inner.start(1):
                        spans.append(inner.span(1))
            continue
        for match in finder.finditer(haystack):
            if not pattern.groups:
                spans.append(match.span())
                continue
            for group in pattern.groups:
                start, end = match.span(group)
                if end > start:
                    spans.append((start, end))
    return spans


def redact_text(text: str) -> str:
    """Mask every secret the patterns know in one string."""
    spans = _spans(text)
    if not spans:
        return text
    spans.sort()
    pieces, position = [], 0
    for start, end in spans:
        if end <= position:
            continue  # inside a span already masked
        start = max(start, position)
        pieces.append(text[position:start])
        pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


class Redact(Filter):
    """Mask passwords, tokens, keys and URL credentials in every text field."""

    on_error = "drop"  # a record that could not be redacted is never shipped

    def process(self, record: LogRecord) -> LogRecord:
        for attr in TEXT_FIELDS:
            value = getattr(record, attr)
            if value:
                setattr(record, attr, redact_text(value))
        return record
