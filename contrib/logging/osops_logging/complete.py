"""A parsed record completed once every line of it is known: origin, error type and message.

Part of the parse state machine (:mod:`osops_logging.lines`), compiled by mypyc
with it.
"""

from __future__ import annotations

from typing import Any, Final

from osops_logging import formats
from osops_logging.names import (
    ERROR_MESSAGE,
    ERROR_TYPE,
    FUNCTION,
    LEVEL,
    MESSAGE,
    ORIGIN,
    STACK_TRACE,
)

TRACE_START: Final = "Traceback (most recent call last):"
_NL_TRACE_START: Final = "\n" + TRACE_START
# The remote traceback of oslo.messaging's RemoteError, a list repr (Python 2 or 3).
_REMOTE_TRACE: Final = ("[u'Traceback", "['Traceback", '[u"Traceback', '["Traceback')


def finish(fields: dict[str, Any]) -> None:
    """Complete a record once every line of it is known.

    DEBUG messages end in "<function> <path>:<line>", after any continuation
    lines; error.type and error.message come from a traceback's last line.
    """
    message: str | None = fields.get(MESSAGE)
    trace: str | None
    if message is not None:
        if "\n" in message:
            at = message.find(_NL_TRACE_START)
            if at >= 0:  # a traceback inside the message (syslog "#012", Python 2 prints)
                trace = fields.get(STACK_TRACE)
                fields[STACK_TRACE] = message[at + 1 :] + ("\n" + trace if trace else "")
                message = message[:at]
                _set(fields, MESSAGE, message)
        if fields.get(LEVEL) == "DEBUG" and message[-1:].isdigit():
            # "<message> <function> <path>:<line>": found from the right, no regex scan.
            cut = message.rfind(" ")
            origin = message[cut + 1 :]
            if cut >= 0 and origin[:1] == "/" and ".py:" in origin:
                before = message.rfind(" ", 0, cut)
                function = message[before + 1 : cut]
                if (function.isascii() and function.isidentifier()) or formats.FUNCTION.fullmatch(
                    function
                ):
                    fields[FUNCTION] = function
                    fields[ORIGIN] = origin
                    body = message[:before].rstrip() if before > 0 else ""
                    if body:
                        fields[MESSAGE] = body
                    else:
                        del fields[MESSAGE]
    trace = fields.get(STACK_TRACE)
    if trace:
        # The last line that is not blank: after the last newline of the
        # stripped trace (and after any other line break, as splitlines has them).
        trace = trace.rstrip()
        text = _last_line(trace)
        if text.startswith(_REMOTE_TRACE):
            # oslo.messaging's RemoteError: its text ends in the remote side's
            # traceback as a list, on a line of its own after the exception's.
            text = _last_line(trace[: trace.rfind("\n")].rstrip())
        match = formats.EXCEPTION.match(text)
        if match is not None and not text.startswith(("File ", "Traceback")):
            fields[ERROR_TYPE] = match.group("type")
            if match.group("msg"):
                fields[ERROR_MESSAGE] = match.group("msg")


def _last_line(trace: str) -> str:
    """The last line of a stripped traceback (after any line break splitlines knows)."""
    lines = trace[trace.rfind("\n") + 1 :].splitlines()
    return lines[-1].strip() if lines else ""


def _set(fields: dict[str, Any], key: str, text: str) -> None:
    """Store a text field; an empty one is unset."""
    if text:
        fields[key] = text
    else:
        fields.pop(key, None)
