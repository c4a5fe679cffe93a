"""``osops log stats`` and ``osops log trace``: their whole output on a small known input.

Two files of one controller: an API log with three calls (one a 5xx, one of a
request that goes on in the compute log under the same global request id),
a line no grammar knows, warnings, errors without a traceback (grouped by
logger and message, numbers masked); a compute log with two tracebacks of one
error type. Every expected value below is worked out by hand from these lines.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from osops.commands.log import StatsLog, TraceLog
from osops.exceptions import LogError
from osops.log.record import LogRecord
from osops.log.stats import Stats
from osops.log.trace import message

A1 = "req-a0000000-0000-4000-8000-000000000001"
A2 = "req-a0000000-0000-4000-8000-000000000002"
A3 = "req-a0000000-0000-4000-8000-000000000003"
C1 = "req-c0000000-0000-4000-8000-000000000001"
C2 = "req-c0000000-0000-4000-8000-000000000002"
G = "req-90000000-0000-4000-8000-000000000009"
DISK = "Disk 90% full: " + "/var/lib/nova/instances/" * 5
# Sixty characters in common: grouped as one problem whatever follows.
PLACEMENT = "Placement API at http://ctl1:8778/ did not answer within 9s "
assert len(PLACEMENT) == 60
WSGI = "nova.osapi_compute.wsgi.server"
DEPRECATED = 'Option "auth_strategy" from group "api" is deprecated for removal.'

API = f"""\
no grammar knows this line, and nothing comes before it to join
2024-05-02 09:00:00.000 100 INFO {WSGI} [None {A1} admin demo - - default default] 10.0.0.1 "GET /v2.1/servers HTTP/1.1" status: 200 len: 100 time: 0.5000000
2024-05-02 09:00:00.900 100 INFO nova.api.openstack [None {A2} admin demo - - default default] Creating server
2024-05-02 09:00:01.000 100 INFO {WSGI} [{G} {A2} admin demo - - default default] 10.0.0.1 "POST /v2.1/servers HTTP/1.1" status: 500 len: 200 time: 2.2500000
2024-05-02 09:00:02.000 100 INFO {WSGI} [None {A3} admin demo - - default default] 10.0.0.1 "GET /v2.1/flavors HTTP/1.1" status: 200 len: 300 time: 0.0100000
2024-05-02 09:00:03.000 100 WARNING nova.api [-] Retrying in 5 seconds
2024-05-02 09:00:04.000 100 WARNING nova.api [-] Retrying in 10 seconds
2024-05-02 09:00:05.000 100 ERROR nova.api [-] Lost connection 3 times
2024-05-02 09:00:05.500 100 ERROR nova.api [-] {DISK}
2024-05-02 09:00:06.000 100 ERROR nova.api [-] Lost connection 12 times
2024-05-02 09:00:06.500 100 ERROR nova.scheduler.client [-] Lost connection 3 times
2024-05-02 09:00:07.000 100 ERROR nova.api [-] {PLACEMENT}for cmp-one
2024-05-02 09:00:07.500 100 ERROR nova.api [-] {PLACEMENT}at cmp-two
2024-05-02 09:00:08.000 100 WARNING oslo_config.cfg [-] {DEPRECATED}
2024-05-02 09:00:09.000 100 WARNING oslo_config.cfg [-] {DEPRECATED}
"""
COMPUTE = f"""\
2024-05-02 09:00:01.500 200 INFO nova.compute.manager [{G} {C1} admin demo - - default default] Building instance
2024-05-02 09:00:01.600 200 ERROR nova.compute.manager [{G} {C1} admin demo - - default default] Build failed: ValueError: no host
2024-05-02 09:00:01.600 200 ERROR nova.compute.manager Traceback (most recent call last):
2024-05-02 09:00:01.600 200 ERROR nova.compute.manager ValueError: no host
2024-05-02 09:00:01.600 200 ERROR nova.compute.manager {""}
2024-05-02 09:00:07.000 200 ERROR nova.compute.manager [None {C2} - - - - - -] Other failure: ValueError: disk
2024-05-02 09:00:07.000 200 ERROR nova.compute.manager Traceback (most recent call last):
2024-05-02 09:00:07.000 200 ERROR nova.compute.manager ValueError: disk
2024-05-02 09:00:07.000 200 ERROR nova.compute.manager {""}
2024-05-02 09:00:08.000 200 DEBUG nova.compute.manager [-] Unrelated
"""


@pytest.fixture
def logs(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "ctl1.nova-api.log").write_text(API)
    (tmp_path / "ctl1.nova-compute.log").write_text(COMPUTE)
    return {
        "api": str(tmp_path / "ctl1.nova-api.log"),
        "compute": str(tmp_path / "ctl1.nova-compute.log"),
    }


class App:
    """What a command needs of cliff's App: somewhere to write."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


def stats(*argv: str) -> str:
    app = App()
    command = StatsLog(app, None)
    assert command.take_action(command.get_parser("osops log stats").parse_args(argv)) == 0
    return app.stdout.getvalue()


def trace(*argv: str) -> tuple[Any, Any]:
    command = TraceLog(App(), None)
    return command.take_action(command.get_parser("osops log trace").parse_args(argv))


LOST = {
    "error_type": None,
    "logger": "nova.api",
    "count": 2,
    "service": "nova-api",
    "example": "Lost connection 3 times",
    "first_seen": "2024-05-02T09:00:05.000",
    "request_id": None,
}
VALUE_ERROR = {
    "error_type": "ValueError",
    "logger": "nova.compute.manager",
    "count": 2,
    "service": "nova-compute",
    "example": "no host",
    "first_seen": "2024-05-02T09:00:01.600",
    "request_id": C1,
}
SCHEDULER = {
    "error_type": None,
    "logger": "nova.scheduler.client",
    "count": 1,
    "service": "nova-api",
    "example": "Lost connection 3 times",
    "first_seen": "2024-05-02T09:00:06.500",
    "request_id": None,
}
PLACEMENT_LOST = {
    "error_type": None,
    "logger": "nova.api",
    "count": 2,
    "service": "nova-api",
    "example": f"{PLACEMENT}for cmp-one",
    "first_seen": "2024-05-02T09:00:07.000",
    "request_id": None,
}
DISK_FULL = {
    "error_type": None,
    "logger": "nova.api",
    "count": 1,
    "service": "nova-api",
    "example": DISK[:97] + "...",
    "first_seen": "2024-05-02T09:00:05.500",
    "request_id": None,
}


def call(seconds: float, method: str, path: str, status: int, rid: str, at: str) -> dict[str, Any]:
    return {
        "duration_seconds": seconds,
        "method": method,
        "path": path,
        "status": status,
        "service": "nova-api",
        "request_id": rid,
        "timestamp": f"2024-05-02T09:00:{at}",
    }


def test_stats_json(logs: dict[str, str]) -> None:
    assert json.loads(stats(logs["api"], logs["compute"], "--format", "json")) == {
        "records": 19,
        "unparsed": 1,
        "by_service": {
            "nova-api": {"ERROR": 6, "INFO": 4, "UNPARSED": 1, "WARNING": 4},
            "nova-compute": {"DEBUG": 1, "ERROR": 2, "INFO": 1},
        },
        "top_errors": [LOST, PLACEMENT_LOST, VALUE_ERROR, DISK_FULL, SCHEDULER],
        "api_requests": 3,
        "api_server_errors": 1,
        "slowest_api_calls": [
            call(2.25, "POST", "/v2.1/servers", 500, A2, "01.000"),
            call(0.5, "GET", "/v2.1/servers", 200, A1, "00.000"),
            call(0.01, "GET", "/v2.1/flavors", 200, A3, "02.000"),
        ],
        "deprecations": [
            {
                "host": "ctl1",
                "service": "nova-api",
                "kind": "option",
                "message": DEPRECATED,
                "group": "api",
                "option": "auth_strategy",
                "logger": "oslo_config.cfg",
                "count": 2,
                "first_seen": "2024-05-02T09:00:08.000",
                "last_seen": "2024-05-02T09:00:09.000",
            }
        ],
        # The unparsed first line has no time; the others span ten seconds.
        "first_seen": "2024-05-02T09:00:00.000",
        "last_seen": "2024-05-02T09:00:09.000",
        "per_minute": {
            "errors": {
                "nova-api": {"2024-05-02T09:00": 6},
                "nova-compute": {"2024-05-02T09:00": 2},
            },
            "server_errors": {"nova-api": {"2024-05-02T09:00": 1}},
        },
        "top_tracebacks": [
            {
                "error_type": "ValueError",
                "count": 2,
                "example": "no host",
                "services": ["nova-compute"],
                "first_seen": "2024-05-02T09:00:01.600",
                "request_id": C1,
            }
        ],
        # Earliest first: A2's 5xx answer, and the error logged by the compute node
        # under the same global id; then C2's error, a request of its own.
        "failed_requests": [
            {
                "timestamp": "2024-05-02T09:00:01.000",
                "host": "ctl1",
                "service": "nova-api",
                "level": "INFO",
                "logger": WSGI,
                "request_id": A2,
                "global_request_id": G,
                "status": 500,
                "message": '10.0.0.1 "POST /v2.1/servers HTTP/1.1" status: 500 len: 200 time: 2.2500000',
                "problems": 2,
                "services": ["nova-api", "nova-compute"],
            },
            {
                "timestamp": "2024-05-02T09:00:07.000",
                "host": "ctl1",
                "service": "nova-compute",
                "level": "ERROR",
                "logger": "nova.compute.manager",
                "request_id": C2,
                "global_request_id": None,
                "status": None,
                "message": "disk",
                "problems": 1,
                "services": ["nova-compute"],
            },
        ],
    }


def test_stats_top_keeps_the_most_frequent_errors_and_the_slowest_calls(
    logs: dict[str, str],
) -> None:
    data = json.loads(stats(logs["compute"], logs["api"], "--format", "json", "--top", "2"))
    assert data["top_errors"] == [VALUE_ERROR, LOST]  # equal counts: first seen first
    assert data["slowest_api_calls"] == [
        call(2.25, "POST", "/v2.1/servers", 500, A2, "01.000"),
        call(0.5, "GET", "/v2.1/servers", 200, A1, "00.000"),
    ]
    data = json.loads(stats(logs["api"], "--format", "json", "--top", "1"))
    assert [e["count"] for e in data["top_errors"]] == [2]
    assert [c["duration_seconds"] for c in data["slowest_api_calls"]] == [2.25]


def test_stats_text(logs: dict[str, str]) -> None:
    disk = DISK[:97] + "..."
    assert stats(logs["api"], logs["compute"]) == textwrap.dedent(
        f"""\
        19 records (1 unparsed)

        service          DEBUG     ERROR      INFO  UNPARSED   WARNING
        nova-api             0         6         4         1         4
        nova-compute         1         2         1         0         0

        top errors:
              2  (logged by nova.api)  [nova-api] Lost connection 3 times
              2  (logged by nova.api)  [nova-api] {PLACEMENT}for cmp-one
              2  ValueError  [nova-compute] no host
              1  (logged by nova.api)  [nova-api] {disk}
              1  (logged by nova.scheduler.client)  [nova-api] Lost connection 3 times

        slowest API calls (3 requests, 1 with 5xx):
              2.250s  500  POST /v2.1/servers  [nova-api] {A2}
              0.500s  200  GET /v2.1/servers  [nova-api] {A1}
              0.010s  200  GET /v2.1/flavors  [nova-api] {A3}

        deprecation warnings logged (1 distinct):
              2  ctl1 nova-api [option] {DEPRECATED}
        """
    )


def test_stats_text_with_nothing_to_report(tmp_path: Path) -> None:
    path = tmp_path / "n-cpu.log"
    path.write_text("2024-05-02 09:00:00.000 1 INFO nova.compute [-] Started\n")
    assert stats(str(path)) == textwrap.dedent(
        """\
        1 records (0 unparsed)

        service      INFO
        n-cpu           1

        top errors:
          none

        slowest API calls (0 requests, 0 with 5xx):
          none

        deprecation warnings logged (0 distinct):
          none
        """
    )


def test_stats_text_of_a_call_without_a_request_id(tmp_path: Path) -> None:
    path = tmp_path / "n-api.log"
    path.write_text(
        '2024-05-02 09:00:00.000 1 INFO nova.wsgi [-] 10.0.0.1 "GET / HTTP/1.1" status: 200'
        " len: 5 time: 0.1000000\n"
    )
    assert stats(str(path)) == textwrap.dedent(
        """\
        1 records (0 unparsed)

        service      INFO
        n-api           1

        top errors:
          none

        slowest API calls (1 requests, 0 with 5xx):
              0.100s  200  GET /  [n-api] -

        deprecation warnings logged (0 distinct):
          none
        """
    )


COLUMNS = ("Time", "Host", "Service", "Level", "Logger", "Request", "Message")
CREATING = (
    "2024-05-02T09:00:00.900",
    "ctl1",
    "nova-api",
    "INFO",
    "nova.api.openstack",
    A2,
    "Creating server",
)
POST = (
    "2024-05-02T09:00:01.000",
    "ctl1",
    "nova-api",
    "INFO",
    WSGI,
    A2,
    '10.0.0.1 "POST /v2.1/servers HTTP/1.1" status: 500 len: 200 time: 2.2500000',
)
BUILDING = (
    "2024-05-02T09:00:01.500",
    "ctl1",
    "nova-compute",
    "INFO",
    "nova.compute.manager",
    C1,
    "Building instance",
)
FAILED = (
    "2024-05-02T09:00:01.600",
    "ctl1",
    "nova-compute",
    "ERROR",
    "nova.compute.manager",
    C1,
    "Build failed: ValueError: no host (ValueError: no host)",
)


@pytest.mark.parametrize("wanted", [A2, C1, G])
@pytest.mark.parametrize("order", [("api", "compute"), ("compute", "api")])
def test_trace_follows_the_global_request_id_across_files(
    logs: dict[str, str], wanted: str, order: tuple[str, str]
) -> None:
    # Whichever id is asked for, local or global, and whichever file comes first.
    rows = [CREATING, POST, BUILDING, FAILED]
    assert trace(wanted, *(logs[name] for name in order)) == (COLUMNS, rows)


def test_trace_of_one_request_alone(logs: dict[str, str]) -> None:
    assert trace(A1, logs["api"], logs["compute"]) == (
        COLUMNS,
        [
            (
                "2024-05-02T09:00:00.000",
                "ctl1",
                "nova-api",
                "INFO",
                WSGI,
                A1,
                '10.0.0.1 "GET /v2.1/servers HTTP/1.1" status: 200 len: 100 time: 0.5000000',
            )
        ],
    )


def test_trace_of_an_unknown_id_names_it(logs: dict[str, str]) -> None:
    with pytest.raises(LogError) as info:
        trace("req-nope", logs["api"], logs["compute"])
    assert str(info.value) == "no record of req-nope in 2 file(s)"


def test_stats_of_files_with_no_service_and_an_empty_error(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a", "b", "c")]
    paths[0].write_text("no grammar knows this\n")
    paths[1].write_text("nor this\n")
    paths[2].write_text("2024-05-02 09:00:08.000 100 ERROR nova.api [-]\n")
    assert json.loads(stats(*map(str, paths), "--format", "json")) == {
        "records": 3,
        "unparsed": 2,
        "by_service": {"unknown": {"ERROR": 1, "UNPARSED": 2}},
        "top_errors": [
            {
                "error_type": None,
                "logger": "nova.api",
                "count": 1,
                "service": None,
                "example": "",
                "first_seen": "2024-05-02T09:00:08.000",
                "request_id": None,
            }
        ],
        "api_requests": 0,
        "api_server_errors": 0,
        "slowest_api_calls": [],
        "deprecations": [],
        "first_seen": "2024-05-02T09:00:08.000",
        "last_seen": "2024-05-02T09:00:08.000",
        "per_minute": {"errors": {"unknown": {"2024-05-02T09:00": 1}}, "server_errors": {}},
        "top_tracebacks": [],
        "failed_requests": [],  # an error with no request id is no request's
    }


def test_stats_of_records_made_by_hand() -> None:
    def record(**fields: Any) -> LogRecord:
        return LogRecord(raw="x", parsed=True, **{"level": "INFO", **fields})

    stats = Stats()
    stats.add(
        [
            record(level="ERROR", logger="a", error_type="E100", error_message="x" * 100),
            record(level="ERROR", logger="a", error_type="E101", error_message="y" * 101),
            record(http_method="GET", url_path="/a", http_status=503, duration_ns=5),
            record(http_method="GET", url_path="/b", http_status=500, duration_ns=4),
            record(http_method="GET", url_path="/c", http_status=200),  # no duration: no call
            record(duration_ns=7),  # no method: no call
            *(
                record(http_method="GET", url_path=f"/{n}", http_status=200, duration_ns=10 + n)
                for n in range(10)
            ),
        ]
    )
    data = stats.as_dict()
    assert [e["example"] for e in data["top_errors"]] == ["x" * 100, "y" * 97 + "..."]
    assert (data["api_requests"], data["api_server_errors"]) == (12, 2)
    # Ten by default, the slowest first.
    assert [c["path"] for c in data["slowest_api_calls"]] == [f"/{n}" for n in range(9, -1, -1)]


def test_trace_message_of_an_error_without_text() -> None:
    record = LogRecord(raw="x", parsed=True, error_type="RemoteError")
    assert message(record) == " (RemoteError: )"
