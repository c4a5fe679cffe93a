"""Command completion: cliff's bash script, with the checks' names and options."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.complete import CompleteCommand, CompleteDictionary

# What bash-completion's _get_comp_words_by_ref gives cliff's script, for shells
# without bash-completion: the words as bash split them (no ':' handling).
_SHIM = """\
if ! declare -F _get_comp_words_by_ref >/dev/null; then
  _get_comp_words_by_ref() {  # without bash-completion: the words as bash split them
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
  }
fi
"""


class Complete(CompleteCommand):
    """Print a bash completion script: eval "$(osops complete)", or save it.

    Commands and their options complete as cliff completes them; ``check run``
    completes every installed check's name, then that check's own options. The
    script uses bash-completion where it is loaded and works without it.
    """

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        name = parsed_args.name or self.app.NAME
        shell = self._formatters[parsed_args.shell].plugin(name, self.app.stdout)
        table = _Dictionary()
        for found in self.app.command_manager:
            command = found[0].split()
            table.add_command(command, self.get_actions(command))
        if parsed_args.shell == "bash":
            self.app.stdout.write(_SHIM)
        shell.write(table.get_commands(), table.get_data())
        return 0


class _Dictionary(CompleteDictionary):
    """cliff's command table, ``check run`` replaced by one entry per installed check."""

    def add_command(self, command: list[str], actions: list[argparse.Action]) -> None:
        if command != ["check", "run"]:
            super().add_command(command, actions)
            return
        for name, check_actions in _checks():
            super().add_command(["check", "run", name], check_actions)


def _checks() -> list[tuple[str, list[argparse.Action]]]:
    """Every installed check that loads, with the options of its command line."""
    from osops import plugins
    from osops.check import runner, settings
    from osops.kinds import KINDS

    found = []
    for entry in plugins.scan([KINDS["check"].namespace]):
        try:
            cls = runner.load_check(entry.name)
        except Exception:  # noqa: S112 - a broken check completes no options; plugin list says why
            continue
        parser: Any = settings.build_parser(entry.name, cls)
        found.append((entry.name, list(parser._get_optional_actions())))
    return sorted(found, key=lambda item: item[0])
