"""The rabbitmq check against a real RabbitMQ with the management plugin."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import assert_unknown_when_hung, run_osops

from osops.testing import free_port, parse_perfdata
from osops_monitoring.rabbitmq import Rabbitmq

pytestmark = pytest.mark.integration


def _config(tmp_path: Path, server: dict[str, Any], **extra: Any) -> str:
    path = tmp_path / "rabbitmq.yaml"
    path.write_text("".join(f"{k}: {v}\n" for k, v in {**server, **extra}.items()))
    return str(path)


def test_healthy_node_with_a_waiting_queue(rabbitmq: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops("check", "run", "rabbitmq", "--config", _config(tmp_path, rabbitmq))
    assert proc.returncode == 0, proc.stdout
    status, _, perfdata = proc.stdout.strip().partition(" | ")
    assert status == "RABBITMQ OK - 1 of 1 nodes running, 1 queues"
    emitted = {item.base_label for item in parse_perfdata(perfdata).values()}
    assert emitted == {perf.label for perf in Rabbitmq.perfdata}
    assert "messages_ready[work]=3;;;0" in perfdata
    assert "messages_unacknowledged[work]=0;;;0" in perfdata
    assert "queues_without_consumers=1;;;0" in perfdata


def test_queue_thresholds_and_names(rabbitmq: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops(
        "check",
        "run",
        "rabbitmq",
        "--config",
        _config(tmp_path, rabbitmq),
        "-w",
        "messages_ready=2",
        "-c",
        "queues_without_consumers=0",
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("RABBITMQ CRITICAL - 1 queues without consumers: work | ")
    proc = run_osops(
        "check",
        "run",
        "rabbitmq",
        "--config",
        _config(tmp_path, rabbitmq),
        "-w",
        "messages_ready=2",
        "-v",
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        "RABBITMQ WARNING - messages_ready[work] is 3 (outside range 0:2)"
    )


def test_queue_filter(rabbitmq: dict[str, Any], tmp_path: Path) -> None:
    proc = run_osops(
        "check", "run", "rabbitmq", "--config", _config(tmp_path, rabbitmq), "--queue", "^nothing$"
    )
    assert proc.returncode == 0
    assert "messages_ready" not in proc.stdout and "0 queues" in proc.stdout


def test_wrong_password_is_unknown_and_hidden(rabbitmq: dict[str, Any], tmp_path: Path) -> None:
    config = _config(tmp_path, rabbitmq, password="Wr0ng-Rabbit")
    proc = run_osops("check", "run", "rabbitmq", "--config", config, "-vvv")
    assert proc.returncode == 3
    assert proc.stdout.startswith(
        "RABBITMQ UNKNOWN - management API refused user 'osops' (HTTP 401)"
    )
    assert "Wr0ng-Rabbit" not in proc.stdout


def test_refused_is_critical() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc = run_osops("check", "run", "rabbitmq", "--url", url)
    assert (proc.returncode, proc.stdout) == (
        2,
        f"RABBITMQ CRITICAL - management API at {url} refused the connection\n",
    )


def test_hung_server_is_unknown_within_timeout() -> None:
    assert_unknown_when_hung("rabbitmq", "--url", "http://127.0.0.1:{port}")


class _Fake(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_api(request: pytest.FixtureRequest) -> Iterator[int]:
    status, body = request.param
    handler = type("Handler", (_Fake,), {"status": status, "body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("fake_api", "code", "line"),
    [
        ((503, b"down"), 2, "RABBITMQ CRITICAL - management API answered HTTP 503"),
        ((500, b"oops"), 2, "RABBITMQ CRITICAL - management API answered HTTP 500"),
        ((403, b"no"), 3, "RABBITMQ UNKNOWN - management API refused user 'guest' (HTTP 403)"),
        (
            (200, b"{not json"),
            3,
            "RABBITMQ UNKNOWN - management API answered /api/nodes with invalid JSON",
        ),
        ((200, b"[]"), 3, "RABBITMQ UNKNOWN - management API listed no nodes"),
    ],
    indirect=["fake_api"],
)
def test_broken_answers(fake_api: int, code: int, line: str) -> None:
    proc = run_osops("check", "run", "rabbitmq", "--url", f"http://127.0.0.1:{fake_api}")
    assert (proc.returncode, proc.stdout) == (code, line + "\n")


@pytest.mark.parametrize("fake_api", [(200, b"[]")], indirect=True)
def test_tls_failure_is_unknown(fake_api: int) -> None:
    proc = run_osops("check", "run", "rabbitmq", "--url", f"https://127.0.0.1:{fake_api}")
    assert proc.returncode == 3
    assert proc.stdout.startswith("RABBITMQ UNKNOWN - TLS to the management API failed: ")
