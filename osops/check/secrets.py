"""Secret option values and URL passwords, kept out of everything a check prints."""

from __future__ import annotations

from osops import urls

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a check ~7 ms at start-up; annotations need none of it
    from collections.abc import Iterable, Mapping
    from typing import Any

    from osops.check.base import Check
    from osops.check.result import CheckResult

HIDDEN = "<hidden>"
# A secret is masked where it stands as a whole value, never inside a longer
# word, a number or an address: these join what is on both sides of them.
_JOINING = frozenset("._-+~%")
# Secrets this short are masked only where they are plainly a value: quoted,
# or after "=" or ": " ("load is 1" and "range 0:1" keep their 1 when the
# password is "1").
_SHORT = 4
_VALUE_BEFORE = ("'", '"', "=", ": ")


def secrets_of(cls: type[Check] | None, options: Mapping[str, Any]) -> list[str]:
    """What must not be shown: secret option values, and the password of any URL given.

    :param cls: the check (None when it could not be loaded: then options named
        like a secret, ``password`` or ``os-token``, are taken for secret ones)
    :param options: option values by dest, or by name when ``cls`` is None
    """
    if cls is not None:
        secret = {arg.dest for arg in cls.arguments if arg.secret}
    else:
        from osops.log.secrets import names  # data only; only a broken suite entry gets here

        known = tuple(name.replace("-", "_") for name in names())
        secret = {k for k in options if str(k).lower().replace("-", "_").endswith(known)}
    found: list[str] = []
    for dest, value in options.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            text = item if isinstance(item, str) else "" if item is None else str(item)
            if dest in secret:
                found.append(text)
            found += url_passwords(text)
    return sorted({s for s in found if s}, key=lambda s: (-len(s), s))


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in a text (``scheme://user:password@host``)."""
    data = text.encode("utf-8", "surrogatepass")
    found = []
    at = data.find(b"://")
    while at >= 0:
        found += [
            data[s:e].decode("utf-8", "surrogatepass") for s, e in urls.password_spans(data, at)
        ]
        at = data.find(b"://", at + 1)
    return found


def hide(text: str, hidden: Iterable[str] = ()) -> str:
    """``text`` with every URL's password and every secret standing as a value masked."""
    spans = _url_spans(text)
    for secret in hidden:
        start = text.find(secret)
        while start >= 0:
            end = start + len(secret)
            if _whole(text, start, end, secret):
                spans.append((start, end))
            start = text.find(secret, start + 1)
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            pieces.append(text[position:start] + HIDDEN)
            position = end
        else:  # inside or overlapping one masked already
            position = max(position, end)
    return "".join(pieces) + text[position:]


def _url_spans(text: str) -> list[tuple[int, int]]:
    data = text.encode("utf-8", "surrogatepass")
    spans = []
    at = data.find(b"://")
    while at >= 0:
        # A password lies between ASCII ":" and "@": its ends are the text's character ends.
        for start, end in urls.password_spans(data, at):
            first = len(data[:start].decode("utf-8", "surrogatepass"))
            spans.append((first, first + len(data[start:end].decode("utf-8", "surrogatepass"))))
        at = data.find(b"://", at + 1)
    return spans


def _joins(text: str, at: int, step: int) -> bool:
    """Whether the character at ``at`` continues a word: a letter or digit, or one of
    ``._-+~%`` with a letter or digit after it (``step`` away): 127.0.0.1 is one
    word, the full stop after a word is none."""
    char = text[at]
    if char.isalnum():
        return True
    beyond = at + step
    return char in _JOINING and 0 <= beyond < len(text) and text[beyond].isalnum()


def _whole(text: str, start: int, end: int, secret: str) -> bool:
    """Whether a secret found at ``start`` stands as a value, not inside other text."""
    if start > 0 and _joins(text, start - 1, -1) and _joins(secret, 0, 1):
        return False
    if end < len(text) and _joins(text, end, 1) and _joins(secret, len(secret) - 1, -1):
        return False
    return len(secret) >= _SHORT or text[:start].endswith(_VALUE_BEFORE)


def hide_result(result: CheckResult, hidden: Iterable[str] = ()) -> CheckResult:
    """A result whose status line and long output show no secret (the state stays as it is)."""
    hidden = list(hidden)
    summary = hide(result.summary, hidden)
    details = tuple(hide(line, hidden) for line in result.details)
    if summary == result.summary and details == result.details:
        return result
    return result.replace(summary=summary, details=details)
