"""Which lines may hold which secrets: one Hyperscan pass over a text, or a substring search.

Only the lines found here are searched by :mod:`osops.log.redaction`; so every
expression must match wherever the redaction's own patterns would find a secret.
"""

from __future__ import annotations

import contextlib
import re
import threading

try:  # Hyperscan finds the lines worth a closer look in one pass (x86_64 and macOS wheels)
    import hyperscan
except ImportError:  # pragma: no cover - the fallback is tested by forcing it
    hyperscan = None  # type: ignore[assignment]

from osops.log import secrets


def _shortest(names: tuple[str, ...]) -> tuple[bytes, ...]:
    """The names no other name is a suffix of: what ends in admin_password ends in password."""
    found = {n.encode() for n in names}
    return tuple(sorted(n for n in found if not any(n != m and n.endswith(m) for m in found)))


#: Every secret name, lower case, none a suffix of another (those are implied).
KEYS: tuple[bytes, ...] = _shortest(secrets.names())
#: Secrets found by their own shape (see :mod:`osops.log.secrets`).
STANDALONE = secrets.STANDALONE


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
    for offset, shape in enumerate(STANDALONE):
        found.append((len(KEYS) + offset, shape.prefilter))
    return [[(index, text.encode()) for index, text in pairs] for pairs in (found, flags)]


def _literals() -> list[tuple[int, bytes]]:
    """What the substring search looks for: (the same ids as :func:`_expressions`, literal)."""
    found = list(enumerate(KEYS))
    return found + [(len(KEYS) + n, shape.literal.encode()) for n, shape in enumerate(STANDALONE)]


_LITERALS = _literals()


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
_COMPILING: list[threading.Thread] = []  # the thread compile_soon started


def _prefilter() -> Prefilter | None:
    if _COMPILING and _COMPILING[0] is not threading.current_thread():
        _COMPILING[0].join()  # failed there, it fails here again: the error is this thread's
    if not _PREFILTER:
        _PREFILTER.append(Prefilter() if hyperscan is not None else None)
    return _PREFILTER[0]


def lines(data: bytes) -> dict[tuple[int, int], set[int]]:
    """``(start, end)`` of each line of ``data`` that may hold a secret, to the patterns' ids.

    Ids below ``len(KEYS)`` are names of :data:`KEYS`; the others, shapes of
    :data:`STANDALONE`, in order. Hyperscan when it is installed, else the
    substring search.
    """
    found = _prefilter()
    return found.lines(data) if found is not None else _substring_lines(data)


def compile_soon() -> None:
    """Start compiling the prefilter on a thread of its own (if Hyperscan is there).

    Hyperscan lets go of the GIL while it compiles (about 15 ms here), so a
    command's imports and option parsing go on meanwhile on a second core;
    the first use of the prefilter waits for it.
    """
    if hyperscan is not None and not _PREFILTER and not _COMPILING:
        thread = threading.Thread(target=_compile_quietly, name="osops-prefilter")
        _COMPILING.append(thread)
        thread.start()


def wait() -> None:
    """Wait for the compiling :func:`compile_soon` started, if it has not ended.

    Before a fork: a thread in Hyperscan's compiler (or in malloc) at the fork
    leaves its locks held in the child for ever.
    """
    if _COMPILING:
        _COMPILING[0].join()


def _compile_quietly() -> None:
    # No traceback from a thread: should compiling fail, the first use fails the same
    # way, in the thread that uses it, where the command's errors are handled.
    with contextlib.suppress(Exception):
        _prefilter()


def compile_now() -> None:
    """Compile the prefilter now (if Hyperscan is there): processes forked later inherit it."""
    _prefilter()
