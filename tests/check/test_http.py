"""The http check against local HTTP and HTTPS servers, and its faults."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import assert_unknown_when_hung, run_osops

from osops.check.http import Http
from osops.testing import free_port

pytestmark = pytest.mark.integration


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/") or 200) if self.path.strip("/").isdigit() else 200
        body = f"<h1>status {status}</h1>".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(server: http.server.HTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def web() -> Iterator[int]:
    yield from _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """HTTPS with a self-signed certificate for localhost that expires in 5 days."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "5",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for port in _serve(server):
        yield port, cert


def test_ok_with_perfdata(web: int) -> None:
    proc = run_osops(
        "check", "run", "http", "--url", f"http://127.0.0.1:{web}/", "--regex", "status 200"
    )
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("HTTP OK - HTTP 200 OK in ")
    assert proc.stdout.rstrip().endswith("size=19B;;;0")


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_error_status_is_critical(web: int, status: int) -> None:
    proc = run_osops("check", "run", "http", "--url", f"http://127.0.0.1:{web}/{status}")
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"HTTP CRITICAL - HTTP {status} ")
    assert f"from 127.0.0.1:{web}, expected 200-399 | time=" in proc.stdout


def test_expected_status_and_regex(web: int) -> None:
    url = f"http://127.0.0.1:{web}/503"
    assert run_osops("check", "run", "http", "--url", url, "--expect", "503").returncode == 0
    proc = run_osops("check", "run", "http", "--url", url, "--expect", "503", "--regex", "nope")
    assert proc.returncode == 2 and "does not match 'nope'" in proc.stdout


def test_connection_refused_is_critical() -> None:
    port = free_port()
    proc = run_osops("check", "run", "http", "--url", f"http://127.0.0.1:{port}/")
    assert (proc.returncode, proc.stdout) == (
        2,
        f"HTTP CRITICAL - 127.0.0.1:{port} refused the connection\n",
    )


def test_hung_server_is_unknown_within_timeout() -> None:
    assert_unknown_when_hung("http", "--url", "http://127.0.0.1:{port}/")


def test_tls_failure_is_critical(tls: tuple[int, Path]) -> None:
    port, _ = tls
    proc = run_osops("check", "run", "http", "--url", f"https://localhost:{port}/")
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"HTTP CRITICAL - TLS to localhost:{port} failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stdout


def test_certificate_days_left(tls: tuple[int, Path]) -> None:
    port, cert = tls
    proc = run_osops(
        "check", "run", "http", "--url", f"https://localhost:{port}/", "--cacert", str(cert)
    )
    assert proc.returncode == 2  # 5 days left, default critical below 7
    assert "certificate expires in 5 days (outside range 7:)" in proc.stdout
    _, _, perfdata = proc.stdout.strip().partition(" | ")
    emitted = {item.split("=")[0] for item in perfdata.split()}
    assert emitted == {perf.label for perf in Http.perfdata}
    proc = run_osops(
        "check",
        "run",
        "http",
        "--url",
        f"https://localhost:{port}/",
        "--cacert",
        str(cert),
        "-c",
        "cert_days=1:",
        "-w",
        "cert_days=2:",
    )
    assert proc.returncode == 0


def test_insecure_skips_verification(tls: tuple[int, Path]) -> None:
    port, _ = tls
    proc = run_osops("check", "run", "http", "--url", f"https://localhost:{port}/", "--insecure")
    assert proc.returncode == 0, proc.stdout


def test_bad_url_is_unknown() -> None:
    proc = run_osops("check", "run", "http", "--url", "ftp://x/")
    assert (proc.returncode, proc.stdout) == (
        3,
        "HTTP UNKNOWN - --url: 'ftp://x/' is not an http(s) URL\n",
    )
