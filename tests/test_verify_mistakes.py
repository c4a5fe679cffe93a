"""plugin verify on a third party's usual packaging mistakes: what it says for each."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import fake_distribution, run_osops

CHECKS = '''
from osops.check.base import Check, Perf, metric

class Offset(Check):
    """Clock offset against NTP servers."""
    perfdata = (Perf("offset", "Seconds off.", uom="s", warning="0.5s"),)
    def probe(self):
        yield metric("offset", 0.0)

class Stratum(Check):
    perfdata = (Perf("stratum", "Stratum."),)
    def probe(self):
        yield metric("stratum", 2)
'''


def _verify(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, str]], str]:
    proc = run_osops("plugin", "verify", "-f", "json", *args, env=env)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_a_typo_in_the_group_is_a_warning_naming_the_closest_group(tmp_path: Path) -> None:
    env = fake_distribution(
        tmp_path,
        "osops-ntp",
        {"osops_ntp/__init__.py": "", "osops_ntp/checks.py": CHECKS},
        "[osops.checks]\noffset = osops_ntp.checks:Offset\n",
    )
    warning = (
        "entry points in unknown group 'osops.checks' (did you mean 'osops.check'?): "
        "osops never loads offset"
    )
    code, rows, err = _verify(env, "--dist", "osops-ntp")
    assert (code, rows, err) == (
        1,
        [
            {
                "Kind": "osops.checks",
                "Name": "offset",
                "Distribution": "osops-ntp",
                "Problem": f"warning: {warning}",
            }
        ],
        f"warning: osops-ntp: {warning}\n"
        "no plugins of osops-ntp installed (osops plugin list shows where)\n",
    )
    code, rows, err = _verify(env)
    assert code == 0
    assert re.fullmatch(
        re.escape(f"warning: osops-ntp: {warning}\n") + r"all \d+ plugins conform; 1 warning\n",
        err,
    ), err


def test_a_wrong_module_path_names_the_module_it_meant(tmp_path: Path) -> None:
    env = fake_distribution(
        tmp_path,
        "osops-ntp",
        {"osops_ntp/__init__.py": "", "osops_ntp/checks.py": CHECKS},
        "[osops.check]\noffset = osops_ntp.check:Offset\n",
    )
    code, rows, err = _verify(env, "--dist", "osops_ntp")
    assert (code, err) == (1, "1 of 1 plugins of osops-ntp fail conformance\n")
    assert rows == [
        {
            "Kind": "check",
            "Name": "offset",
            "Distribution": "osops-ntp",
            "Problem": "broken: ModuleNotFoundError: No module named 'osops_ntp.check' (fix: fix "
            "the entry point 'offset' = 'osops_ntp.check:Offset' in osops-ntp's packaging: "
            "there is no module 'osops_ntp.check' (did you mean 'osops_ntp.checks'?))",
        }
    ]


def test_a_missing_docstring_and_a_unit_in_a_threshold(tmp_path: Path) -> None:
    env = fake_distribution(
        tmp_path,
        "osops-ntp",
        {"osops_ntp/__init__.py": "", "osops_ntp/checks.py": CHECKS},
        "[osops.check]\noffset = osops_ntp.checks:Offset\nstratum = osops_ntp.checks:Stratum\n",
    )
    code, rows, err = _verify(env, "--dist", "osops-ntp", "--kind", "check")
    assert (code, err) == (1, "2 of 2 plugins of osops-ntp fail conformance\n")
    assert [row["Problem"] for row in rows] == [
        "broken: perfdata 'offset' default warning '0.5s' is no Nagios range (e.g. '0.5', "
        "'10:', '~:2'; the unit belongs in uom) (fix: make osops_ntp.checks:Offset honour "
        "the check contract (CONTRIBUTING.rst))",
        "broken: osops_ntp.checks.Stratum has no docstring (its first line is the summary) "
        "(fix: make osops_ntp.checks:Stratum honour the check contract (CONTRIBUTING.rst))",
    ]


def test_a_lost_module_still_says_reinstall(tmp_path: Path) -> None:
    env = fake_distribution(
        tmp_path,
        "osops-ntp",
        {"osops_ntp/__init__.py": "", "osops_ntp/checks.py": CHECKS},
        "[osops.check]\noffset = osops_ntp.checks:Offset\n",
    )
    (tmp_path / "osops_ntp" / "checks.py").unlink()
    code, rows, _ = _verify(env, "--dist", "osops-ntp")
    assert code == 1
    assert rows[0]["Problem"].endswith(
        "(fix: reinstall osops-ntp: its module 'osops_ntp.checks' is missing)"
    )
