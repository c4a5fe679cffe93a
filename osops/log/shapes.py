"""Where the value after a secret's name lies, in every shape OpenStack logs it."""

from __future__ import annotations

import re

from osops.log import secrets

_PROSE = tuple(k.encode() for k in secrets.PROSE_KEYS)
_SCHEMES = frozenset(s.encode() for s in secrets.AUTH_SCHEMES)
_HASHES = tuple(h.encode() for h in secrets.HASH_PREFIXES)
_AUTHORIZATION = b"authorization"

# How a value follows a name (the name's digits first). Each is tried where the
# name ends; the Hyperscan expressions of osops.log.prefilter must match
# wherever these do.
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


def _start_of_name(line: bytes, at: int, chars: re.Pattern[bytes]) -> int:
    """Where the name (a run of ``chars``) that ends with the key found at ``at`` begins.

    Looked for backwards in a window as long as a name gets.
    """
    window = line[max(0, at - _LONGEST_NAME) : at][::-1]
    return at - chars.match(window).end()  # type: ignore[union-attr]


def keyed(
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
