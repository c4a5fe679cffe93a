"""osops complete: the bash script it prints completes in a real bash, as a person types."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from helpers import run_osops

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    done = run_osops("complete")
    assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("complete") / "osops.bash"
    path.write_text(done.stdout)
    return path


def complete(
    script: Path, line: str, with_bash_completion: bool, cwd: Path | None = None
) -> set[str]:
    """What bash offers for the last word of ``line`` (a trailing space: a new word)."""
    words = line.split() + ([""] if line.endswith(" ") else [])
    prelude = f"source {BASH_COMPLETION}\n" if with_bash_completion else ""
    code = (
        prelude
        + f"source {shlex.quote(str(script))}\n"
        + f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        + f"COMP_CWORD={len(words) - 1}\n"
        + f"COMP_LINE={shlex.quote(line)}\nCOMP_POINT={len(line)}\n"
        + "complete -p osops >/dev/null || exit 3\n"  # registered for the command
        + "_osops\n"
        + 'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return {word for word in done.stdout.splitlines() if word}


@pytest.mark.parametrize("with_bash_completion", [True, False], ids=["bash-completion", "plain"])
def test_the_script_completes_commands_options_checks_and_files(
    script: Path, with_bash_completion: bool, tmp_path: Path
) -> None:
    def offered(line: str, cwd: Path | None = None) -> set[str]:
        return complete(script, line, with_bash_completion, cwd)

    assert {"check", "log", "plugin", "dashboard", "complete", "help"} <= offered("osops ")
    assert offered("osops lo") == {"log"}
    assert offered("osops log ") == {"parse", "ship", "stats", "trace"}
    assert offered("osops log parse --s") == {"--since"}
    assert offered("osops log stats --le") == {"--level"}
    assert offered("osops plugin show --f") == {"--format", "--fit-width"}
    # check run: the installed checks by name, then that check's own options.
    assert {"dummy", "http", "memcached", "galera"} <= offered("osops check run ")
    assert offered("osops check run mem") == {"memcached"}
    assert offered("osops check run memcached --po") == {"--port"}
    assert offered("osops check run dummy --st") == {"--state"}
    # Past the options cliff knows: files, as bash completes them.
    (tmp_path / "nova-api.log").write_text("")
    (tmp_path / "neutron.log").write_text("")
    assert offered("osops log parse nova", cwd=tmp_path) == {"nova-api.log"}
