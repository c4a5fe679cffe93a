"""The redact filter: declarative patterns that mask secrets before any sink sees them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from osops.log.base import Filter
from osops.log.record import LogRecord

MASK = "***"

# Key names whose values are secrets, after oslo.utils strutils._SANITIZE_KEYS:
# anything ending in password/passwd/pass/secret/token/_key/credential(s).
_SENSITIVE_NAMES = (
    r"[A-Za-z0-9_.\-]*(?:password|passwd|_pass|secret|token|_key|credentials?|"
    r"passphrase|auth_key|private_key)"
)
_SENSITIVE_END = r"(?:passw(?:or)?d|_pass|secret|token|_key|credentials?|passphrase)"
_NAME_TRIGGERS = ("pass", "secret", "token", "_key", "credential")


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One kind of secret: where it appears and how it is masked."""

    name: str
    triggers: tuple[str, ...]  # lower-case substrings without which it cannot match
    regex: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]
    example: str  # a line holding such a secret, for tests and docs
    secret: str  # the part of ``example`` that must never survive


_PKI = (
    "MIIEPAYJKoZIhvcNAQcCoIIELTCCBCkCAQExCTAHBgUrDgMCGjCCApUGCSqGSIb3DQEHAaCCAoYEggKCeyJh"
    "Y2Nlc3MiOiB7InRva2VuIjogeyJpc3N1ZWRfYXQi"
)


def _mask_userinfo(match: re.Match[str]) -> str:
    # transport_url may list several hosts: rabbit://u:p@h1:5672,u:p@h2:5672/
    return re.sub(r"([^:/@,\s]+):([^@/,\s]+)@", rf"\1:{MASK}@", match.group(0))


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "token_header",
        ("token", "authorization"),
        re.compile(
            r"(?i)((?:X-(?:Auth|Subject|Service)-Token|X-Storage-Token|Authorization)"
            r"['\"]?\s*[:=]\s*['\"]?(?:Bearer |\{SHA(?:1|256)\})?)([^'\"\s,}]+)"
        ),
        rf"\1{MASK}",
        'curl -i -H "X-Auth-Token: 0123456789abcdef0123456789abcdef" http://ctl:8774/',
        "0123456789abcdef0123456789abcdef",
    ),
    Pattern(
        "fernet_token",
        ("gaaaaa",),
        re.compile(r"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}"),
        MASK,
        "validated token gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
        "gAAAAABlQ2xYbm9uZV9mZXJuZXRfdG9rZW5faGVyZV9mb3JfdGVzdGluZ19vbmx5X19f",
    ),
    Pattern(
        "pki_token",
        ("mii",),
        re.compile(r"MII[A-Za-z0-9+/\-]{100,}={0,2}"),
        MASK,
        "token " + _PKI,
        _PKI,
    ),
    Pattern(
        "url_credentials",
        ("://",),
        re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]*@[^\s'\"<>]*"),
        _mask_userinfo,
        "transport_url = rabbit://nova:Rabb1tPass@ctl1:5672,nova:Rabb1tPass@ctl2:5672/",
        "Rabb1tPass",
    ),
    Pattern(
        "quoted_secret_value",
        _NAME_TRIGGERS,
        re.compile(rf"(?i)(['\"]{_SENSITIVE_NAMES}['\"]\s*[:=]\s*u?)(['\"])((?:\\.|(?!\2).)*)\2"),
        rf"\1\2{MASK}\2",
        "{'username': 'admin', 'password': 'S3cr3t-Pw', 'tenant': 'demo'}",
        "S3cr3t-Pw",
    ),
    Pattern(
        "bare_secret_value",
        _NAME_TRIGGERS,
        re.compile(
            # Anchored on the end of the key name: scanning whole words first
            # made this the slowest step of the log pipeline.
            rf"(?i)({_SENSITIVE_END}['\"]?\s*[:=]\s*)(?!{re.escape(MASK)}|[{{\[])"
            r"(['\"]?)([^\s,;'\")}\]]+)\2"
        ),
        rf"\1\2{MASK}\2",
        "connect(user=nova, admin_password=Nova-Pw-1, host=db1)",
        "Nova-Pw-1",
    ),
)

# Attributes that may carry free text; others hold parsed ids, numbers and levels.
TEXT_FIELDS = ("raw", "message", "error_message", "stack_trace", "url_path")


def redact_text(text: str, patterns: tuple[Pattern, ...] = PATTERNS) -> str:
    """Mask every secret the patterns know in one string."""
    lowered = text.lower()
    for pattern in patterns:
        if any(trigger in lowered for trigger in pattern.triggers):
            text = pattern.regex.sub(pattern.replace, text)
    return text


class Redact(Filter):
    """Mask passwords, tokens, keys and URL credentials in every text field."""

    on_error = "drop"  # a record that could not be redacted is never shipped

    def process(self, record: LogRecord) -> LogRecord:
        for attr in TEXT_FIELDS:
            value = getattr(record, attr)
            if value:
                setattr(record, attr, redact_text(value))
        return record
