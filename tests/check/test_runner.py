"""``osops check run``: states, thresholds, options, --config, timeouts, secrets, exit codes."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops

from osops.check import runner
from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.check.settings import parse, settle
from osops.exceptions import CheckError


@pytest.mark.parametrize(
    ("state", "line"),
    [
        ("0", "DUMMY OK - all good"),
        ("1", "DUMMY WARNING - all good"),
        ("2", "DUMMY CRITICAL - all good"),
        ("3", "DUMMY UNKNOWN - all good"),
    ],
)
def test_dummy_returns_given_state_and_text(state: str, line: str) -> None:
    proc = run_osops("check", "run", "dummy", "--state", state, "--text", "all good")
    assert (proc.returncode, proc.stdout, proc.stderr) == (int(state), line + "\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no_such_check"], "NO_SUCH_CHECK UNKNOWN - no check named 'no_such_check'"),
        (["dummy", "--state", "9"], "DUMMY UNKNOWN - --state: 9 is not one of 0, 1, 2, 3"),
        (["dummy", "--bogus"], "DUMMY UNKNOWN - unrecognized arguments: --bogus"),
        (
            ["dummy", "-w", "5"],
            "DUMMY UNKNOWN - --warning: check 'dummy' has no metric to compare",
        ),
        (["dummy", "-t", "0"], "DUMMY UNKNOWN - --timeout: must be more than 0 seconds"),
        ([], "OSOPS UNKNOWN - usage: osops check run NAME [options]"),
    ],
)
def test_own_failures_are_unknown_with_one_line(argv: list[str], message: str) -> None:
    proc = run_osops("check", "run", *argv)
    assert proc.returncode == 3
    assert proc.stdout.startswith(message)
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr == ""


def test_cliff_route_keeps_nagios_exit_codes() -> None:
    # Global options before the command make cliff, not the lean route, run it.
    proc = run_osops("--quiet", "check", "run", "dummy", "--state", "2", "--text", "via cliff")
    assert (proc.returncode, proc.stdout) == (2, "DUMMY CRITICAL - via cliff\n")
    proc = run_osops("--quiet", "check", "run", "nope")
    assert proc.returncode == 3


def test_config_file_sits_under_argv(tmp_path: Path) -> None:
    config = tmp_path / "dummy.yaml"
    config.write_text("state: 1\ntext: from config\n")
    proc = run_osops("check", "run", "dummy", "--config", str(config))
    assert (proc.returncode, proc.stdout) == (1, "DUMMY WARNING - from config\n")
    proc = run_osops("check", "run", "dummy", "--config", str(config), "--text", "from argv")
    assert (proc.returncode, proc.stdout) == (1, "DUMMY WARNING - from argv\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("state: [1\n", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("colour: red\n", "unknown option 'colour'"),
    ],
)
def test_broken_config_file_is_unknown(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    proc = run_osops("check", "run", "dummy", "--config", str(config))
    assert proc.returncode == 3
    assert message in proc.stdout and str(config) in proc.stdout


def test_missing_config_file_is_unknown(tmp_path: Path) -> None:
    proc = run_osops("check", "run", "dummy", "--config", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 3
    assert "No such file or directory" in proc.stdout


def test_check_help_lists_its_own_and_reserved_options() -> None:
    proc = run_osops("check", "run", "dummy", "--help")
    assert proc.returncode == 3  # monitoring-plugins exit UNKNOWN after --help
    for option in ("--state", "--text", "--warning", "--critical", "--timeout", "--config"):
        assert option in proc.stdout


class Sample(Check):
    """A test check with two metrics, a secret and a detail."""

    arguments = (
        Argument("load", "Value of the primary metric.", type="float", default=1.0),
        Argument("password", "A secret.", secret=True, default="hunter2-secret"),
        Argument("sleep", "Seconds to block.", type="float", default=0.0),
        Argument("fail", "Raise this kind of error.", choices=("", "check", "bug")),
    )
    perfdata = (
        Perf("load", "Primary.", warning="5", critical="10"),
        Perf("size", "Per item.", uom="B", min=0, per="disk"),
    )

    def probe(self) -> Iterator[Any]:
        if self.options["sleep"]:
            time.sleep(self.options["sleep"])
        if self.options["fail"] == "check":
            raise CheckError(f"cannot log in with {self.options['password']}")
        if self.options["fail"] == "bug":
            raise KeyError(self.options["password"])
        yield metric("load", self.options["load"])
        yield metric("size", 2048, instance="vda")
        yield Detail("disk vda has 2048 bytes")


def run_sample(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = runner.main(["sample", *argv], out=out, load=lambda name: Sample)
    return code, out.getvalue()


def test_thresholds_from_declaration_and_argv() -> None:
    assert run_sample([]) == (0, "SAMPLE OK - load is 1 | load=1;5;10 size[vda]=2048B;;;0\n")
    assert run_sample(["--load", "7"])[1].startswith(
        "SAMPLE WARNING - load is 7 (outside range 0:5)"
    )
    assert run_sample(["--load", "7", "-w", "8"])[0] == 0
    assert run_sample(["--load", "0.5", "-c", "load=1:"])[0] == 2
    code, out = run_sample(["-c", "size=1000"])
    assert code == 2
    assert "size[vda]=2048B;;1000;0" in out


def test_unknown_threshold_label_names_the_metrics() -> None:
    code, out = run_sample(["-w", "nope=3"])
    assert code == 3
    assert out == (
        "SAMPLE UNKNOWN - --warning: check 'sample' has no metric 'nope' (metrics: load, size)\n"
    )


def test_bad_range_is_unknown() -> None:
    code, out = run_sample(["-w", "load=abc"])
    assert (code, out) == (3, "SAMPLE UNKNOWN - --warning: 'abc' is not a Nagios range\n")


def test_verbose_adds_long_output() -> None:
    _, out = run_sample(["-v"])
    assert out.splitlines()[1:] == ["disk vda has 2048 bytes"]


def test_timeout_is_unknown_and_prompt() -> None:
    started = time.monotonic()
    code, out = run_sample(["--sleep", "5", "-t", "0.3"])
    assert time.monotonic() - started < 1.3
    assert (code, out) == (3, "SAMPLE UNKNOWN - timed out after 0.3s\n")


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"], ["-vvv"]])
@pytest.mark.parametrize("fail", ["check", "bug"])
def test_secrets_never_printed(verbosity: list[str], fail: str) -> None:
    code, out = run_sample(["--fail", fail, "--password", "s3cr3t-value", *verbosity])
    assert code == 3
    assert "s3cr3t-value" not in out
    assert "<hidden>" in out
    if verbosity == ["-vvv"]:
        assert "Traceback" in out
    else:
        assert "Traceback" not in out and len(out.splitlines()) == 1


def test_undeclared_metric_is_a_bug_reported_unknown() -> None:
    class Liar(Sample):
        """Emits a metric it never declared."""

        def probe(self) -> Iterator[Any]:
            yield metric("surprise", 1)

    with pytest.raises(CheckError, match="undeclared metric 'surprise'"):
        Liar({"load": 1, "sleep": 0, "fail": ""}, 5.0).run("liar")


def test_stated_detail_sets_state() -> None:
    class Down(Sample):
        """Reports a fact with a state."""

        def probe(self) -> Iterator[Any]:
            yield Detail("cluster is not Primary", State.CRITICAL)
            yield metric("load", 1)

    result = Down({}, 5.0).run("down")
    assert result.state == State.CRITICAL
    assert result.summary == "cluster is not Primary"


def test_secret_from_environment_under_config_and_argv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OSOPS_PASSWORD", "from-env")
    _, options = settle("sample", Sample, {}, "test")
    assert options["password"] == "from-env"
    _, options = settle("sample", Sample, {"password": "from-config"}, "test")
    assert options["password"] == "from-config"
    _, options = parse("sample", Sample, ["--password", "from-argv"])
    assert options["password"] == "from-argv"
    monkeypatch.setenv("OSOPS_LOAD", "9")  # only secrets are read from the environment
    _, options = settle("sample", Sample, {}, "test")
    assert options["load"] == 1.0
