"""An exporter that prints: the document on standard output stays whole, the print is named."""

from __future__ import annotations

from pathlib import Path

from helpers import fake_distribution, run_osops

NOISY = '''
from osops.dashboard.base import Exporter

class Noisy(Exporter):
    """Prints while exporting."""
    suffix = ".txt"
    media_type = "text/plain"
    def export(self, dashboard):
        print("exporting", dashboard.name)
        return dashboard.title + "\\n"
'''


def test_an_exporter_that_prints(tmp_path: Path) -> None:
    env = fake_distribution(
        tmp_path,
        "osops-noisy",
        {"noisy_exporter.py": NOISY},
        "[osops.dashboard.exporter]\nnoisy = noisy_exporter:Noisy\n",
    )
    proc = run_osops("dashboard", "export", "logs", "--to", "noisy", env=env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "OpenStack logs\n",
        "exporter 'noisy' printed 'exporting logs' to standard output; osops kept it off "
        "(plugins log, never print)\n",
    )
