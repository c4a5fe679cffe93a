"""The oslo.log head read by hand, exactly as :data:`formats.OSLO` reads it, where it can be.

Nearly every line is an oslo.log head. Compiled by mypyc (contrib/logging/setup.py),
a few string operations cost less than a regex match and its groups: the parse
stage, 17% less per line on a generated corpus. The reader handles the lines
it can decide for certain, all ASCII (``str.isascii`` costs nothing: the
string knows it), and gives up on anything else (a Unicode digit or space, a
control character, a shape off the common path), which then goes to the
regex: the regex stays the definition, and a test holds the two equal on the
corpora and on fuzzed lines. The wsgi access line, read by hand the same
way, measured slower than its regex: :func:`access_fields` keeps the regex.
"""

from __future__ import annotations

from typing import Any, Final

from osops_logging import formats
from osops_logging.names import BYTES, CLIENT_IP, DURATION, METHOD, PATH, STATUS

#: ``end`` of a head that is not there: the line cannot match the regex.
NONE: Final = -2
#: ``end`` when this reader cannot decide: ask the regex.
ASK: Final = -1
_DIGITS: Final = "0123456789"
# oslo.log's levels, known at a glance; any other capitals are checked one by one.
_LEVELS: Final = frozenset({"DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL", "TRACE"})

#: date, clock, pid ("" if none), level, logger, context, whether "[context]" was there, end
Head = tuple[str, str, str, str, str, str, bool, int]

_ASK_HEAD: Final[Head] = ("", "", "", "", "", "", False, ASK)
NO_HEAD: Final[Head] = ("", "", "", "", "", "", False, NONE)


def oslo_head(raw: str) -> Head:
    """The groups of :data:`formats.OSLO` and the match's end (or :data:`ASK`, :data:`NONE`)."""
    if not raw:
        return NO_HEAD
    first = raw[0]
    if first not in _DIGITS:
        # \d is a Unicode decimal digit: an ASCII character other than 0-9 is none.
        return NO_HEAD if first.isascii() else _ASK_HEAD
    n = len(raw)
    if (
        n < 21
        or not raw.isascii()
        or raw[4] != "-"
        or raw[7] != "-"
        or (raw[10] != " " and raw[10] != "T")
        or raw[13] != ":"
        or raw[16] != ":"
    ):
        return _ASK_HEAD
    # Token by token, each ended by a space: whatever else a token holds, its checks
    # (digits, capitals, printable) refuse, and the regex judges the line.
    space = raw.find(" ", 19)
    if space < 0:
        return _ASK_HEAD
    date = raw[0:10]
    clock = raw[11:space]
    # The separators are where they belong: without the first two, digits only.
    if not date.replace("-", "", 2).isdigit() or not clock[:8].replace(":", "", 2).isdigit():
        return _ASK_HEAD
    if space > 19 and not ((raw[19] == "." or raw[19] == ",") and clock[9:].isdigit()):
        return _ASK_HEAD
    at = space + 1
    space = raw.find(" ", at)
    if space < 0:
        return _ASK_HEAD
    pid = ""
    token = raw[at:space]
    if token.isdigit():
        pid = token
        at = space + 1
        space = raw.find(" ", at)
        if space < 0:
            return _ASK_HEAD
        token = raw[at:space]
    if token not in _LEVELS and (not token.isalpha() or not token.isupper()):
        return _ASK_HEAD
    level = token
    at = space + 1
    space = raw.find(" ", at)
    stop = n if space < 0 else space
    logger = raw[at:stop]
    # \S: a control character or any other whitespace than the space is the regex's to judge.
    if not logger or not logger.isprintable():
        return _ASK_HEAD
    if space < 0:
        return (date, clock, pid, level, logger, "", False, n)
    start = space + 2
    if start <= n and raw[space + 1] == "[":
        # (?!u?['"]): an oslo.messaging remote traceback's list is no context.
        quoted = start < n and (
            raw[start] == "'"
            or raw[start] == '"'
            or (raw[start] == "u" and raw[start + 1 : start + 2] in ("'", '"'))
        )
        close = -1 if quoted else raw.find("]", start)
        if close >= 0:
            end = close + 1
            if end < n and raw[end] == " ":
                end += 1
            return (date, clock, pid, level, logger, raw[start:close], True, end)
    return (date, clock, pid, level, logger, "", False, space + 1)


def access_fields(fields: dict[str, Any], msg: str) -> None:
    """Set the fields of a wsgi access line's message, if it is one (:data:`formats.ACCESS`).

    Read by hand the same way as the head, it measured slower than its regex.
    """
    match = formats.ACCESS.match(msg)
    if match is not None:
        client, method, path, status, length, seconds = match.groups()
        if client != "-":
            fields[CLIENT_IP] = client
        fields[METHOD] = method
        fields[PATH] = path
        fields[STATUS] = int(status)
        fields[BYTES] = int(length)
        fields[DURATION] = round(float(seconds) * 1e9)
