"""upgrade_config as Icinga runs it: exact status line, perfdata per finding, exit code."""

from __future__ import annotations

from pathlib import Path

from helpers import run_osops

from osops_upgrade.check import UpgradeConfig

CONFIGS = Path(__file__).resolve().parent / "configs"


def _perfdata(stdout: str) -> dict[str, str]:
    _, _, perfdata = stdout.splitlines()[0].partition(" | ")
    return dict(item.split("=", 1) for item in perfdata.split())


def test_breaking_findings_are_critical_and_named() -> None:
    proc = run_osops(
        "check", "run", "upgrade_config", "--service", "keystone", "--from", "2025.1",
        "--file", str(CONFIGS / "keystone-2025.1.conf"), "-v",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    first, *details = proc.stdout.splitlines()
    assert first.split(" | ")[0] == (
        "UPGRADE_CONFIG CRITICAL - 2 removed: [DEFAULT] watch_log_file, [oslo_policy] "
        "enforce_scope, 1 unknown: [identity] max_passwrd_length, 1 invalid: [token] expiration"
    )
    perfdata = _perfdata(proc.stdout)
    assert set(perfdata) == {p.label for p in UpgradeConfig.perfdata}
    assert perfdata == {
        "removed": "2;;0;0",
        "unknown": "1;;0;0",
        "value_removed": "0;;0;0",
        "invalid": "1;;0;0",
        "renamed": "2;0;;0",
        "deprecated": "1;0;;0",
        "default_changed": "2;;;0",
    }
    assert "[cache] memcache_password: renamed, now [cache] password (2026.1)" in details
    assert "Cache-Pw-5" not in proc.stdout


def test_advice_only_is_warning(tmp_path: Path) -> None:
    conf = tmp_path / "keystone.conf"
    conf.write_text("[cache]\ndead_timeout = 60\n[token]\nexpiration = 7200\n")
    proc = run_osops(
        "check", "run", "upgrade_config", "--service", "keystone", "--from", "2026.1",
        "--file", str(conf),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout.startswith("UPGRADE_CONFIG WARNING - 1 renamed: [cache] dead_timeout | ")


def test_ready_configuration_is_ok(tmp_path: Path) -> None:
    conf = tmp_path / "keystone.conf"
    conf.write_text("[token]\nexpiration = 7200\n")
    proc = run_osops(
        "check", "run", "upgrade_config", "--service", "keystone", "--from", "2026.1",
        "--to", "2026.2", "--file", str(conf),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith(
        "UPGRADE_CONFIG OK - keystone configuration ready for 2026.2 (30.0.0) from 2026.1, "
        "1 defaults changed | "
    )


def test_unreadable_file_is_unknown(tmp_path: Path) -> None:
    proc = run_osops(
        "check", "run", "upgrade_config", "--service", "keystone", "--file", str(tmp_path / "no")
    )
    assert (proc.returncode, proc.stdout) == (
        3,
        f"UPGRADE_CONFIG UNKNOWN - {tmp_path / 'no'}: no such file or directory\n",
    )
