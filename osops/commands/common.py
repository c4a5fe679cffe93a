"""What commands share: where plugins come from, a list with an exit status, -o FILE, seconds."""

from __future__ import annotations

import abc
import argparse
from typing import Any

from cliff.command import Command
from cliff.lister import Lister


class Plugins:
    """Where a command's plugins come from: the installed ones, unless a test injects its own.

    A test sets :attr:`managers` to ``{kind: ExtensionManager.make_test_instance(...)}``
    and calls ``take_action``, as python-openstackclient's tests inject clients.
    """

    #: Per kind, the stevedore manager to take plugins from; None: the installed ones.
    managers: dict[str, Any] | None = None

    def manager(self, kind: str) -> Any:
        """The injected manager of one kind, or None."""
        return (self.managers or {}).get(kind)


class StatusLister(Lister, abc.ABC):
    """A list whose exit status says something too (a failure found, the worst state).

    ``take_action`` returns ``(columns, rows)`` as every Lister's and sets
    :attr:`status`; :meth:`run` exits with it once the list is written, unless
    writing it failed.
    """

    #: The exit status once the list is written.
    status = 0

    def run(self, parsed_args: Any) -> int:
        written = int(super().run(parsed_args))
        return written or self.status


def add_output(parser: argparse.ArgumentParser) -> None:
    """The ``-o/--output FILE`` option of a :class:`DocumentCommand`."""
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically)")


class DocumentCommand(Command, abc.ABC):
    """A command that writes one document: to ``-o FILE`` atomically, else standard output.

    Override :meth:`document`; call :func:`add_output` in ``get_parser``
    where ``-o`` belongs in the help.
    """

    @abc.abstractmethod
    def document(self, parsed_args: Any) -> str:
        """The whole document.

        :returns: its text
        """

    def take_action(self, parsed_args: Any) -> int:
        text = self.document(parsed_args)
        if parsed_args.output:
            from osops.files import write_atomically

            write_atomically(parsed_args.output, text, what=f"-o {parsed_args.output}")
        else:
            self.app.stdout.write(text)
        return 0


def seconds(text: str) -> float:
    """argparse type: a number of seconds from 0 to a day."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= seconds <= 86400:  # nan and inf are neither
        raise argparse.ArgumentTypeError(f"{text}: must be from 0 to 86400 seconds")
    return seconds
