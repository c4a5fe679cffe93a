"""Output formats of a check result: Nagios, JSON and Prometheus exposition."""

from __future__ import annotations

import json

from osops.check.base import State
from osops.check.output import nagios, perfdata_item, prometheus, render
from osops.check.result import CheckResult, PerfValue

RESULT = CheckResult(
    name="rabbitmq",
    state=State.WARNING,
    summary="messages_ready[q1] is 1500 | piped",
    perfdata=(
        PerfValue("messages_ready[q1]", 1500, "", "1000", None, 0, None),
        PerfValue("latency", 0.25, "s", None, "2", 0, None),
        PerfValue("disk free", 50.5, "%", None, None, 0, 100),
    ),
    details=("queue q1 has no consumer",),
    duration=0.5,
)


def test_nagios_status_line_with_perfdata() -> None:
    assert nagios(RESULT) == (
        "RABBITMQ WARNING - messages_ready[q1] is 1500 ! piped | "
        "messages_ready[q1]=1500;1000;;0 latency=0.25s;;2;0 'disk free'=50.5%;;;0;100\n"
    )


def test_nagios_long_output_only_when_verbose() -> None:
    assert nagios(RESULT, verbose=1).splitlines()[1:] == ["queue q1 has no consumer"]


def test_perfdata_quotes_labels_with_quotes() -> None:
    assert perfdata_item(PerfValue("it's", 1)) == "'it''s'=1"


def test_perfdata_numbers_never_in_exponent_form() -> None:
    item = perfdata_item(PerfValue("offset", 1.234e-07, "s", "0.1", "1", 0, 5e-05))
    assert item == "offset=0.0000001234s;0.1;1;0;0.00005"
    assert perfdata_item(PerfValue("big", 1.5e17)) == "big=150000000000000000"
    assert perfdata_item(PerfValue("neg", -2.5e-06)) == "neg=-0.0000025"


def test_json_is_machine_readable() -> None:
    data = json.loads(render(RESULT, "json"))
    assert data["state"] == "WARNING" and data["exit_code"] == 1
    assert data["perfdata"][0] == {
        "label": "messages_ready",
        "instance": "q1",
        "value": 1500,
        "uom": "",
        "warning": "1000",
        "critical": None,
        "min": 0,
        "max": None,
    }


def test_prometheus_exposition_in_base_units() -> None:
    text = prometheus(RESULT)
    assert 'osops_check_state{check="rabbitmq",name="rabbitmq"} 1' in text
    assert 'osops_rabbitmq_messages_ready{check="rabbitmq",name="rabbitmq",item="q1"} 1500' in text
    assert 'osops_rabbitmq_latency_seconds{check="rabbitmq",name="rabbitmq"} 0.25' in text
    assert 'osops_rabbitmq_disk_free_percent{check="rabbitmq",name="rabbitmq"} 50.5' in text
    assert text.count("# TYPE osops_rabbitmq_messages_ready gauge") == 1


def test_prometheus_families_once_across_results() -> None:
    from osops.check.output import prometheus_many

    other = RESULT.replace(name="rabbit-ctl2", check="rabbitmq")
    text = prometheus_many([RESULT, other])
    assert text.count("# TYPE osops_check_state gauge") == 1
    assert text.count("# TYPE osops_rabbitmq_latency_seconds gauge") == 1
    assert 'osops_rabbitmq_latency_seconds{check="rabbitmq",name="rabbit-ctl2"} 0.25' in text
    lines = text.splitlines()
    for family in ("osops_check_state", "osops_rabbitmq_latency_seconds"):
        positions = [i for i, line in enumerate(lines) if line.startswith(family + "{")]
        assert positions == list(range(positions[0], positions[0] + 2))  # grouped together
