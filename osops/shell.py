"""The osops console script: lean routes for ``check run`` and ``log parse``; cliff the rest."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``osops`` console script.

    ``osops check run`` is what Icinga starts thousands of times a minute, so
    it bypasses cliff, whose CommandManager imports every command module
    through stevedore (~130 ms); so does ``osops log parse`` (:mod:`osops.commands.lean`)
    unless the line has one of cliff's own options (help, -v, -q, --debug, --log-file,
    --version). Every other command goes through cliff.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["check", "run"]:
        from osops.check import runner

        return runner.main(args[2:])
    if args[:2] == ["log", "parse"] and not any(map(_cliff_only, args[2:])):
        # Over gigabytes and in pipes: the same command without cliff's ~70 ms.
        from osops.commands import lean

        return lean.main(args[2:])
    return _cliff_main(args)


#: cliff's own options, which it takes anywhere on the line: with one, cliff runs it.
_CLIFF_OPTIONS = frozenset(
    {"--help", "--version", "--verbose", "--quiet", "--debug", "--log-file"}
)


def _cliff_only(arg: str) -> bool:
    """Whether an argument is one of cliff's options (-h, -v, -q, -vv, --log-file=F ...)."""
    if arg.partition("=")[0] in _CLIFF_OPTIONS:
        return True
    return len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"h", "v", "q"}


def _cliff_main(args: list[str]) -> int:
    from osops import app

    return app.run(args)


if __name__ == "__main__":
    sys.exit(main())
