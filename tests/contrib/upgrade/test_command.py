"""``osops upgrade audit`` as operators and CI run it: formats, --junit, exit status."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers import run_osops

CONFIGS = Path(__file__).resolve().parent / "configs"


def test_json_rows_and_exit_1_when_something_breaks() -> None:
    proc = run_osops(
        "upgrade", "audit", "--service", "keystone", "--from", "2025.1",
        str(CONFIGS / "keystone-2025.1.conf"), "-f", "json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    rows = json.loads(proc.stdout)
    assert set(rows[0]) == {"section", "option", "finding", "detail", "release"}
    assert {"section": "token", "option": "expiration", "finding": "invalid",
            "detail": "one hour: invalid literal for int() with base 10: 'one hour'",
            "release": "2026.2"} in rows  # fmt: skip
    assert proc.stderr == f"keystone 2025.1 (27.1.0) -> 2026.2 (30.0.0): {len(rows)} findings\n"
    assert "Cache-Pw-5" not in proc.stdout and "Db-Pw-3" not in proc.stdout


def test_releases_by_version_and_exit_0_for_advice_only(tmp_path: Path) -> None:
    conf = tmp_path / "keystone.conf"
    conf.write_text("[DEFAULT]\nmax_param_size = 64\n[token]\nexpiration = 7200\n")
    proc = run_osops(
        "upgrade", "audit", "--service", "keystone", "--from", "28.1.0", "--to", "30",
        str(conf), "-f", "value", "-c", "option", "-c", "finding",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "max_param_size deprecated" in proc.stdout.splitlines()
    assert proc.stderr.startswith("keystone 2025.2 (28.1.0) -> 2026.2 (30.0.0): ")


def test_clean_configuration_has_no_row(tmp_path: Path) -> None:
    conf = tmp_path / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\ndebug = true\n[cache]\nenabled = true\npassword = Cache-Pw-5\n"
        "[token]\nprovider = fernet\nexpiration = 7200\n[identity]\ndriver = sql\n"
    )
    proc = run_osops(
        "upgrade", "audit", "--service", "keystone", "--from", "2026.2", str(conf), "-f", "json"
    )
    assert (proc.returncode, json.loads(proc.stdout)) == (0, [])


def test_junit_report(tmp_path: Path) -> None:
    report = tmp_path / "audit.xml"
    proc = run_osops(
        "upgrade", "audit", "--service", "keystone", "--from", "2025.1",
        str(CONFIGS / "keystone-2025.1.conf"), "--junit", str(report), "-f", "value",
    )  # fmt: skip
    assert proc.returncode == 1
    suite = ET.parse(report).getroot()
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "0")) == len(cases) == len(proc.stdout.splitlines())
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "0")) == len(failed)
    assert "[token] expiration: invalid" in failed
    assert "[DEFAULT] max_param_size: deprecated" not in failed


def test_conf_d_directory_is_read_after_the_files_in_name_order(tmp_path: Path) -> None:
    conf_d = tmp_path / "keystone.conf.d"
    conf_d.mkdir()
    (tmp_path / "keystone.conf").write_text("[token]\nexpiration = soon\n")
    (conf_d / "20-fix.conf").write_text("[token]\nexpiration = 7200\n")
    (conf_d / "10-break.conf").write_text("[token]\nexpiration = later\n")
    (conf_d / "ignored.txt").write_text("[token]\nexpiration = never\n")
    proc = run_osops(
        "upgrade", "audit", "--service", "keystone", "--from", "2026.2",
        str(tmp_path / "keystone.conf"), str(conf_d), "-f", "json",
    )  # fmt: skip
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]")


def test_osops_errors_exit_2_in_one_line(tmp_path: Path) -> None:
    for args, message in (
        (
            ("--service", "swift", str(tmp_path)),
            "--service swift: no data (services: cinder, glance, keystone, neutron, nova, placement)\n",
        ),
        (
            ("--service", "nova", "--to", "2023.1", str(tmp_path)),
            "--to 2023.1: no such nova release in the data (known: ",
        ),
        (
            ("--service", "nova", str(tmp_path / "missing.conf")),
            f"{tmp_path / 'missing.conf'}: no such file or directory\n",
        ),
    ):
        proc = run_osops("upgrade", "audit", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith(message) and len(proc.stderr.splitlines()) == 1
    bad = tmp_path / "bad.conf"
    bad.write_text("[DEFAULT]\nno equals sign here\n")
    proc = run_osops("upgrade", "audit", "--service", "nova", str(bad))
    assert (proc.returncode, proc.stderr) == (
        2,
        f"{bad}: No ':' or '=' found in assignment at line 2\n",
    )
    proc = run_osops("upgrade", "audit", str(bad))
    assert proc.returncode == 2 and "--service" in proc.stderr
