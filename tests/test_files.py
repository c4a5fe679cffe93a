"""Every YAML file osops reads is bounded; every file it writes keeps links and devices."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from helpers import OSOPS, ROOT, run_osops
from measure import run_measured

from osops import files
from osops.exceptions import UsageError

#: Nine lists, each of nine aliases to the one before: 360 bytes that stand for
#: 9**9 (387 million) strings once expanded.
BOMB = (
    "[&a [x, x, x, x, x, x, x, x, x], "
    + ", ".join(
        f"&{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]"
)
REFUSED = "aliases expand to more than 100000 values or 64 levels (an alias bomb?)"


def test_alias_bomb_in_config_is_refused_at_once(tmp_path: Path) -> None:
    config = tmp_path / "bomb.yaml"
    config.write_text(f"state: 1\ntext: {BOMB}\n")
    done = run_measured([str(OSOPS), "check", "run", "dummy", "--config", str(config)], 30)
    assert (done.returncode, done.stdout) == (
        3,
        f"DUMMY UNKNOWN - --config {config} line 2: {REFUSED}\n",
    ), done
    assert done.cpu < 5 and done.rss_mib < 200, done  # was 40 s and 3.6 GB


def test_alias_bomb_in_dashboard_is_one_problem(tmp_path: Path) -> None:
    board = tmp_path / "bomb.yaml"
    board.write_text(f"title: boom\nrows: {BOMB}\n")
    done = run_measured([str(OSOPS), "dashboard", "validate", str(board), "-f", "value"], 30)
    assert done.returncode == 1, done
    assert done.stdout.splitlines() == [f"{board}:2: {REFUSED}"]
    assert done.cpu < 5 and done.rss_mib < 200, done  # was 485 MB printed, 1.3 GB


def test_alias_bomb_in_suite_is_refused(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"checks:\n  - {{check: dummy, options: {{text: {BOMB}}}}}\n")
    done = run_measured([str(OSOPS), "check", "suite", str(suite)], 30)
    assert (done.returncode, done.stderr.strip()) == (1, f"{suite} line 2: {REFUSED}"), done


def test_modest_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "base: &base {url: 'http://x', timeout: 3}\n"
        "checks:\n  - {check: http, options: *base}\n  - {check: dummy, options: {<<: *base}}\n"
    )
    data = files.read_yaml(str(path), "x")
    assert data["checks"][1]["options"] == {"url": "http://x", "timeout": 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("checks: [a]\ntimeout: 3\nchecks: [b]\n", " line 3: duplicate key 'checks'"),
        ("a: {b: 1, b: 2}\n", " line 1: duplicate key 'b'"),
        ("[" * 70 + "]" * 70 + "\n", " line 1: nested deeper than 64 levels"),
        ("a: [1\n", " line 2: not valid YAML"),
        ("a: 1" + "0" * 5000 + "\n", ": not valid YAML (ValueError)"),
    ],
)
def test_refused_yaml_is_one_line_naming_file_and_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(files.YamlError) as info:
        files.read_yaml(str(path), f"--config {path}")
    assert str(info.value) == f"--config {path}{problem}"


def test_big_and_binary_yaml_are_refused(tmp_path: Path) -> None:
    big, binary = tmp_path / "big.yaml", tmp_path / "bin.yaml"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    binary.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(files.YamlError, match=r"big.yaml: larger than 1 MiB, not read$"):
        files.read_yaml(str(big), str(big))
    with pytest.raises(files.YamlError, match=r"bin.yaml: not UTF-8 text \(byte 3\)$"):
        files.read_yaml(str(binary), str(binary))


def test_dashboard_validate_reports_every_file(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    good = ROOT / "dashboards" / "galera.yaml"
    paths = [tmp_path / "missing.yaml", tmp_path / "dir.yaml", tmp_path / "bin.yaml", good]
    proc = run_osops("dashboard", "validate", *map(str, paths), "-f", "value")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{tmp_path}/missing.yaml: No such file or directory",
        f"{tmp_path}/dir.yaml: Is a directory",
        f"{tmp_path}/bin.yaml: not UTF-8 text (byte 0)",
    ]
    assert proc.stderr == "4 definitions, 3 problems\n"


# Files written: -o, --save, --junit, --prometheus-textfile and --state.


def test_symlink_is_kept_and_its_target_written(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "results.json"
    target.write_text("old\n")
    link = tmp_path / "results.json"
    link.symlink_to(target)
    files.write_atomically(str(link), "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["results.json"]


def test_check_export_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "conf.d-osops.conf"
    target.write_text("stale\n")
    link = tmp_path / "osops.conf"
    link.symlink_to(target)
    proc = run_osops("check", "export", "-o", str(link), "dummy")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert 'CheckCommand "osops-dummy"' in target.read_text()


def test_device_is_written_not_replaced(tmp_path: Path) -> None:
    # Through a link in tmp_path: old code replaced the link, never /dev/full itself.
    full, null = tmp_path / "full", tmp_path / "null"
    full.symlink_to("/dev/full")
    null.symlink_to("/dev/null")
    proc = run_osops("check", "export", "-o", str(null), "dummy")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert null.is_symlink()
    proc = run_osops("check", "export", "-o", str(full), "dummy")
    assert (proc.returncode, proc.stderr.strip()) == (1, f"-o {full}: No space left on device")
    assert full.is_symlink() and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_fifo_is_streamed_into(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    suite = tmp_path / "suite.yaml"
    suite.write_text("checks:\n  - {check: dummy}\n")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_osops("check", "suite", str(suite), "--save", str(fifo), timeout=30)
    reader.join(10)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert b'"state": "OK"' in got[0]


def test_directory_and_unwritable_places_are_named(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("checks:\n  - {check: dummy}\n")
    proc = run_osops("check", "suite", str(suite), "--junit", str(tmp_path))
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        f"--junit {tmp_path}: a directory, not a regular file",
    )
    proc = run_osops("check", "suite", str(suite), "--save", "/proc/nope/x.json")
    assert (proc.returncode, proc.stderr.strip()) == (
        1,
        "--save /proc/nope/x.json: No such file or directory (/proc/nope)",
    )


def test_state_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=f"^{fifo}: a FIFO, not a regular file$"):
        files.write_atomically(str(fifo), "x", stream=False)
    with pytest.raises(UsageError, match=f"^--state {tmp_path}: a directory, not a regular file$"):
        files.check_writable(str(tmp_path), f"--state {tmp_path}")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
