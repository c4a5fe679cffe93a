"""Passwords in URLs: where the userinfo of a URL holds one, for any scheme."""

from __future__ import annotations

import re

# The authority ends at the path, query or fragment, or where the text around
# the URL takes over again (a space, a quote, an angle bracket, a backslash).
_AUTHORITY = re.compile(rb"""[^\s/?#'"<>\\]*""")


def password_spans(data: bytes, at: int) -> list[tuple[int, int]]:
    """Where passwords lie in the URL whose ``://`` starts at ``at``: (start, end) pairs.

    ``scheme://user:password@host`` and ``scheme://:password@host``; a user
    alone (``qemu+ssh://nova@host``) is no secret. The authority may list
    several hosts (oslo.messaging's ``rabbit://u:p@h1:5672,u:p@h2:5672/``) and
    a password may hold ``@`` or ``,``: a userinfo runs to the last ``@``
    before its host, and a piece with no ``@`` belongs to the next one.
    """
    start = at + 3
    match = _AUTHORITY.match(data, start)
    end = match.end() if match else start
    if data.find(b"@", start, end) < 0:
        return []
    spans: list[tuple[int, int]] = []
    first = start  # where the userinfo of the piece being read begins
    while first < end:
        comma = data.find(b",", first, end)
        stop = comma if comma >= 0 else end
        at_sign = data.rfind(b"@", first, stop)
        while at_sign < 0 and comma >= 0:  # no host yet: the comma is the password's
            comma = data.find(b",", comma + 1, end)
            stop = comma if comma >= 0 else end
            at_sign = data.rfind(b"@", first, stop)
        if at_sign < 0:
            break
        colon = data.find(b":", first, at_sign)
        if 0 <= colon < at_sign - 1:
            spans.append((colon + 1, at_sign))
        first = stop + 1
    return spans
