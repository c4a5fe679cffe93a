"""CONTRIBUTING.rst's "third-party plugin in ten minutes", run line by line as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from helpers import ROOT

MARKER = "(``tests/test_contributing.py`` runs these lines as written)::\n"


def steps() -> list[str]:
    """The commands of the block after the marker, as a contributor would type them."""
    text = (ROOT / "CONTRIBUTING.rst").read_text()
    block = text.split(MARKER, 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def test_the_block_is_the_path_from_nothing_to_verified() -> None:
    assert steps() == [
        "osops plugin new check ntp_offset --dist osops-ntp",
        "osops plugin new filter ntp_tag --dist osops-ntp -o osops-ntp",
        "osops plugin new sink ntp_lines --dist osops-ntp -o osops-ntp",
        "cd osops-ntp",
        "pip install -e .",
        "python -m pytest",
        "osops plugin verify --dist osops-ntp",
    ]


def _environment(where: Path) -> dict[str, str]:
    """A contributor's virtual environment: its own pip, osops and pytest already there.

    ``pip install osops pytest`` is stood in for: the venv sees this one's packages
    (a .pth file) and gets the ``osops`` script pip would have written. pip works
    offline, with the build tools at hand.
    """
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "osops-dev.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = venv / "bin" / "osops"
    script.write_text(
        f"#!{venv}/bin/python\nimport sys\nfrom osops.shell import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {
        **env,
        "PATH": f"{venv}/bin:{env['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def test_a_contributor_follows_it_to_a_verified_check_filter_and_sink(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    script = "set -e\n" + "\n".join(steps()) + "\n"
    proc = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^=+ 8 passed in [0-9.]+s =+$", proc.stdout, re.MULTILINE), proc.stdout
    assert proc.stderr.splitlines()[-1] == "all 3 plugins of osops-ntp conform"
    # The edit: the install is editable, so a change is live without reinstalling.
    module = work / "osops-ntp" / "osops_ntp" / "ntp_offset.py"
    module.write_text(module.read_text().replace('warning="1"', 'warning="0.25"'))
    shown = subprocess.run(
        ["osops", "plugin", "show", "check", "ntp_offset", "-f", "value", "-c", "perfdata"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (shown.returncode, shown.stdout) == (
        0,
        "connect_time (unit 's', warning 0.25, critical 5): "
        "Seconds until the connection was accepted.\n",
    )
