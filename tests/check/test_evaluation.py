"""Range and state evaluation of a check run, in-process, held to exact results.

``Check.run`` turns what a probe yields into a state, a status line, perfdata
and long output; ``settle`` and ``thresholds`` turn options into settings;
``failure`` and ``scrub`` turn errors into one safe line. Each test compares
the whole result (but the measured duration) with what Nagios range semantics
and the contract say it must be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nagiosplugin
import pytest

from osops.check import runner, secrets
from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.check.result import CheckResult, PerfValue
from osops.check.settings import Settings, settle, thresholds
from osops.exceptions import CheckError, ServiceDown, UsageError


class Disks(Check):
    """Load and per-disk usage, with what the probe is told to yield."""

    arguments = (
        Argument("password", "A secret.", secret=True),
        Argument("tokens", "Secrets.", secret=True, repeatable=True),
        Argument("zone", "Not a secret."),
        Argument("region", "Required.", required=True),
    )
    perfdata = (
        Perf("load", "Primary.", warning="5", critical="10"),
        Perf("used", "Per disk.", uom="%", min=0, max=100, per="disk", fmt="{name} at {value}"),
    )

    def probe(self) -> Iterator[Any]:
        yield from self.options["items"]


def run(
    *items: Any,
    warning: tuple[str, ...] = (),
    critical: tuple[str, ...] = (),
    cls: type[Check] = Disks,
) -> CheckResult:
    check = cls({"items": items, "region": "r1"}, 5.0)
    result = check.run(
        "disks",
        thresholds(cls, "disks", warning, "warning"),
        thresholds(cls, "disks", critical, "critical"),
        alarm=False,
    )
    assert 0.0 < result.duration < 5.0
    return result.replace(duration=0.0)


LOAD = PerfValue("load", 1, "", "5", "10")


def used(
    disk: str, value: float, warning: str | None = None, critical: str | None = None
) -> PerfValue:
    return PerfValue(f"used[{disk}]", value, "%", warning, critical, 0, 100)


def test_ok_names_the_primary_metric_and_keeps_every_perfdata() -> None:
    assert run(metric("load", 1), metric("used", 40, "vda"), Detail("vda is ext4")) == CheckResult(
        "disks", State.OK, "load is 1", (LOAD, used("vda", 40)), ("vda is ext4",), 0.0, "disks"
    )


def test_declared_default_thresholds_decide() -> None:
    assert run(metric("load", 7)) == CheckResult(
        "disks",
        State.WARNING,
        "load is 7 (outside range 0:5)",
        (PerfValue("load", 7, "", "5", "10"),),
        ("warning: load is 7 (outside range 0:5)",),
        0.0,
        "disks",
    )
    assert run(metric("load", 10)).state == State.WARNING  # 10 is inside 0:10
    assert run(metric("load", 10.5)).state == State.CRITICAL


def test_bare_range_is_the_primary_metrics_and_labels_pick_others() -> None:
    result = run(
        metric("load", 1),
        metric("used", 95, "vda"),
        metric("used", 20, "vdb"),
        warning=("0.5", "used=80"),
        critical=("used=90",),
    )
    assert (result.state, result.summary) == (
        State.CRITICAL,
        "used[vda] at 95 (outside range 0:90)",
    )
    assert result.details == (  # the worst first
        "critical: used[vda] at 95 (outside range 0:90)",
        "warning: load is 1 (outside range 0:0.5)",
    )
    assert {p.label: p for p in result.perfdata} == {
        "load": PerfValue("load", 1, "", "0.5", "10"),
        "used[vda]": used("vda", 95, "80", "90"),
        "used[vdb]": used("vdb", 20, "80", "90"),
    }


def test_a_critical_range_alone_keeps_the_declared_warning() -> None:
    result = run(metric("load", 3), critical=("load=2",))
    assert result.perfdata == (PerfValue("load", 3, "", "5", "2"),)
    assert (result.state, result.summary) == (State.CRITICAL, "load is 3 (outside range 0:2)")


class Expecting(Disks):
    """``ranges()`` from an option: at least ``zone`` disks, and load's warning moved."""

    def ranges(self) -> dict[str, tuple[str | None, str | None]]:
        return {"used": (None, f"{self.options['zone']}:"), "load": ("2", None)}


def test_ranges_from_options_are_defaults_under_the_command_line() -> None:
    def run_expecting(*items: Any, critical: tuple[str, ...] = ()) -> CheckResult:
        check = Expecting({"items": items, "region": "r1", "zone": "3"}, 5.0)
        limits = thresholds(Expecting, "disks", critical, "critical")
        return check.run("disks", {}, limits, alarm=False).replace(duration=0.0)

    result = run_expecting(metric("load", 1), metric("used", 2, "vda"))
    assert sorted(result.perfdata, key=lambda p: p.label) == [
        PerfValue("load", 1, "", "2", "10"),  # None: the declared critical stays
        PerfValue("used[vda]", 2, "%", None, "3:", 0, 100),
    ]
    assert (result.state, result.summary) == (State.CRITICAL, "used[vda] at 2 (outside range 3:)")
    result = run_expecting(metric("load", 1), metric("used", 2, "vda"), critical=("used=1:",))
    assert PerfValue("used[vda]", 2, "%", None, "1:", 0, 100) in result.perfdata
    assert (result.state, result.summary) == (State.OK, "load is 1")
    assert run_expecting(metric("load", 3)).state == State.WARNING


def test_a_detail_with_a_label_explains_its_metric_when_not_ok() -> None:
    items = (
        metric("load", 1),
        metric("used", 95, "vda"),
        Detail("vda: 3 of 4 inodes left", label="used[vda]"),
    )
    result = run(*items, warning=("used=90",))
    assert (result.state, result.summary) == (State.WARNING, "vda: 3 of 4 inodes left")
    assert result.details == (
        "warning: used[vda] at 95 (outside range 0:90)",
        "vda: 3 of 4 inodes left",
    )
    assert run(*items).summary == "load is 1"  # OK: the primary metric, not the explanation


def test_a_stated_detail_decides_by_itself_and_heads_the_line() -> None:
    result = run(
        metric("load", 7), Detail("cluster is not Primary", State.CRITICAL), Detail("size 3")
    )
    assert result == CheckResult(
        "disks",
        State.CRITICAL,
        "cluster is not Primary",
        (PerfValue("load", 7, "", "5", "10"),),
        ("warning: load is 7 (outside range 0:5)", "size 3"),
        0.0,
        "disks",
    )
    ok = run(
        metric("load", 1), Detail("cluster is Primary", State.OK), Detail("in sync", State.OK)
    )
    assert (ok.state, ok.summary, ok.details) == (State.OK, "cluster is Primary, in sync", ())


def test_worst_state_lists_every_result_of_that_state() -> None:
    result = run(
        metric("used", 95, "vda"),
        metric("used", 97, "vdb"),
        metric("used", 85, "vdc"),
        warning=("used=80",),
        critical=("used=90",),
    )
    assert result.state == State.CRITICAL
    assert (
        result.summary
        == "used[vda] at 95 (outside range 0:90), used[vdb] at 97 (outside range 0:90)"
    )
    assert result.details == (
        "critical: used[vda] at 95 (outside range 0:90)",
        "critical: used[vdb] at 97 (outside range 0:90)",
        "warning: used[vdc] at 85 (outside range 0:80)",
    )


def test_ok_without_the_primary_metric_lists_what_there_is() -> None:
    result = run(metric("used", 10, "vda"), metric("used", 20, "vdb"))
    assert (result.state, result.summary) == (State.OK, "used[vda] at 10, used[vdb] at 20")


def test_a_probe_that_yields_nothing_is_unknown() -> None:
    result = run()
    assert (result.state, result.summary, result.perfdata) == (State.UNKNOWN, "no metrics", ())


def test_a_metric_brings_its_own_unit_and_bounds() -> None:
    own = nagiosplugin.Metric("used[vda]", 4, uom="GB", min=1, max=8, context="used")
    assert run(own).perfdata == (PerfValue("used[vda]", 4, "GB", None, None, 1, 8),)


def test_an_undeclared_metric_is_a_bug() -> None:
    with pytest.raises(CheckError) as info:
        run(metric("load", 1), nagiosplugin.Metric("surprise", 1, context="surprise"))
    assert str(info.value) == (
        "check 'disks' emitted undeclared metric 'surprise' (declared perfdata: load, used)"
    )


def test_the_check_gets_the_timeout_and_a_suite_entry_keeps_its_plugin() -> None:
    seen = []

    class Timed(Disks):
        """Records its timeout."""

        def probe(self) -> Iterator[Any]:
            seen.append(self.timeout)
            yield metric("load", 1)

    result = Timed({}, 2.5).run("entry", critical={"load": "0.5"}, alarm=False, plugin="timed")
    assert seen == [2.5]
    assert (result.name, result.check, result.state) == ("entry", "timed", State.CRITICAL)


@pytest.mark.parametrize(
    ("specs", "option", "message"),
    [
        (
            ["nope=3"],
            "warning",
            "--warning: check 'disks' has no metric 'nope' (metrics: load, used)",
        ),
        (["load=abc"], "critical", "--critical: 'abc' is not a Nagios range"),
        (["used=1:x"], "warning", "--warning: '1:x' is not a Nagios range"),
        (["load=1=2"], "warning", "--warning: '1=2' is not a Nagios range"),
    ],
)
def test_threshold_errors_name_the_option(specs: list[str], option: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        thresholds(Disks, "disks", specs, option)
    assert str(info.value) == message


def test_thresholds_check_both_options_and_name_them() -> None:
    for option in ("warning", "critical"):
        with pytest.raises(UsageError) as info:
            run(metric("load", 1), **{option: ("nope=1",)})
        assert str(info.value) == (
            f"--{option}: check 'disks' has no metric 'nope' (metrics: load, used)"
        )


def test_thresholds_by_label_with_spaces_and_the_primary() -> None:
    found = thresholds(Disks, "disks", ["7", " used =@10:20"], "warning")
    assert found == {"load": "7", "used": "@10:20"}

    class Bare(Check):
        """No metric at all."""

        def probe(self) -> Iterator[Any]:
            yield from ()

    with pytest.raises(UsageError) as info:
        thresholds(Bare, "bare", ["5"], "critical")
    assert str(info.value) == "--critical: check 'bare' has no metric to compare"
    with pytest.raises(UsageError) as info:
        thresholds(Bare, "bare", ["x=5"], "warning")
    assert str(info.value) == "--warning: check 'bare' has no metric 'x' (metrics: none)"


class Primary(Disks):
    """Its primary metric is not the first declared."""

    primary = "used"


def test_an_explicit_primary_takes_bare_ranges() -> None:
    assert thresholds(Primary, "p", ["90"], "critical") == {"used": "90"}
    result = run(metric("load", 1), metric("used", 5, "vda"), cls=Primary)
    assert result.summary == "used[vda] at 5"


def test_settle_merges_config_under_argv() -> None:
    config = {
        "warning": "load=3",
        "critical": ["1", "used=9"],
        "timeout": "2.5",
        "verbose": 2,
        "output_format": "json",
        "zone": "az1",
        "password": "from-config",
    }
    given = {"zone": "az2", "warning": ["load=4"]}
    settings, options = settle("disks", Disks, {**config, "region": "r1"}, "c.yaml", given)
    assert settings == Settings(
        warning={"load": "4"},
        critical={"load": "1", "used": "9"},
        timeout=2.5,
        verbose=2,
        output_format="json",
    )
    assert options == {"password": "from-config", "tokens": None, "zone": "az2", "region": "r1"}


def test_settle_defaults() -> None:
    assert settle("disks", Disks, {"region": "r1"}, "x") == (
        Settings(warning={}, critical={}, timeout=10.0, verbose=0, output_format="nagios"),
        {"password": None, "tokens": None, "zone": None, "region": "r1"},
    )
    config = {"output-format": "prometheus", "verbose": None, "warning": "load=3", "region": "r"}
    settings, _ = settle("disks", Disks, config, "x")
    assert (settings.output_format, settings.verbose, settings.warning) == (
        "prometheus",
        0,
        {"load": "3"},
    )


def test_settle_takes_framework_options_from_argv_by_dest() -> None:
    given = {"output_format": "json", "verbose": 3, "timeout": "4", "region": "r1"}
    settings, _ = settle("disks", Disks, {"output-format": "prometheus"}, "x", given)
    assert (settings.output_format, settings.verbose, settings.timeout) == (
        "json",
        3,
        4.0,
    )


def test_settle_names_the_check_of_a_missing_option() -> None:
    with pytest.raises(UsageError) as info:
        settle("disks", Disks, {}, "x")
    assert str(info.value) == "check 'disks': option 'region' is required"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "red"}, "--config c.yaml: unknown option 'colour'"),
        (
            {"output_format": "xml"},
            "--output-format: 'xml' is not one of nagios, json, prometheus",
        ),
        ({"timeout": "soon"}, "--timeout: expected seconds, got 'soon'"),
        ({"timeout": None}, "--timeout: expected seconds, got None"),
        ({"timeout": 0}, "--timeout: must be more than 0 seconds and at most 3600, got 0"),
        ({"timeout": -1}, "--timeout: must be more than 0 seconds and at most 3600, got -1"),
    ],
)
def test_settle_names_what_does_not_fit(config: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as info:
        settle("disks", Disks, {**config, "region": "r1"}, "--config c.yaml")
    assert str(info.value) == message


def test_failure_states_and_lines() -> None:
    assert runner.failure("galera", ServiceDown("connection refused")) == CheckResult(
        "galera", State.CRITICAL, "connection refused"
    )
    assert runner.failure("galera", nagiosplugin.Timeout("3s")) == CheckResult(
        "galera", State.UNKNOWN, "timed out after 3s"
    )
    assert runner.failure("", CheckError("no answer")) == CheckResult(
        "osops", State.UNKNOWN, "no answer"
    )
    bug = runner.failure("galera", KeyError("wsrep"))
    assert (bug.state, bug.summary, bug.details) == (State.UNKNOWN, "KeyError: 'wsrep'", ())


def test_failure_traceback_only_at_vvv_one_line_each() -> None:
    try:
        raise KeyError("wsrep")
    except KeyError as exc:
        error = exc
    assert runner.failure("galera", error, verbose=2).details == ()
    details = runner.failure("galera", error, verbose=3).details
    assert details[0] == "Traceback (most recent call last):"
    assert details[-2:] == ('    raise KeyError("wsrep")', "KeyError: 'wsrep'")
    assert all(line and "\n" not in line for line in details)


def test_failure_traceback_keeps_every_line_as_python_prints_it() -> None:
    try:
        try:
            raise OSError("disk full   ")
        except OSError as cause:
            raise ValueError("vdX") from cause
    except ValueError as exc:
        error = exc
    details = runner.failure("galera", error, verbose=3).details
    assert details[3:6] == (
        "OSError: disk full   ",
        "",
        "The above exception was the direct cause of the following exception:",
    )
    assert details[-1] == "ValueError: vdX"


def test_secrets_are_hidden_longest_first_and_only_as_whole_values() -> None:
    options = {"password": "abc", "tokens": ["abcdef", ""], "zone": "abc-zone"}
    hidden = secrets.secrets_of(Disks, options)
    assert hidden == ["abcdef", "abc"]
    # "abc" inside "abcdef" and "abc-zone" is part of a longer word, and a secret of
    # under four characters is hidden only where it is plainly a value (after "=").
    assert secrets.hide("abcdef then password=abc in abc-zone, abc alone", hidden) == (
        "<hidden> then password=<hidden> in abc-zone, abc alone"
    )
    assert secrets.hide("abcd", ["b", "abcd"]) == "<hidden>"  # the whole value, not its letter
    assert secrets.secrets_of(Disks, {"password": None, "tokens": None, "zone": "z"}) == []
