"""The search sinks across several hosts: spread, fail over, wait while all are down.

Two OpenSearch-API servers (osmem-server, each a process of its own) behind
counting fronts (``search_proxy``: the ids each one acknowledged), one killed
while ``log ship --follow`` runs. They are independent servers, not one
cluster: what the killed one had acknowledged dies with it, so "nothing lost"
is the ids it acknowledged plus those stored in the survivor, and "nothing
duplicated" that no id was acknowledged twice, by either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import OSOPS, SAMPLES, run_osops
from search_proxy import proxy
from servers import wait_until

pytestmark = pytest.mark.integration
NOVA_API = SAMPLES / "hp-ms-01-c29.nova-api.log"
RECORDS = 2188


def halves() -> tuple[str, str]:
    """The sample cut where a record starts, near its middle."""
    lines = NOVA_API.read_text().splitlines(keepends=True)
    cut = next(n for n in range(len(lines) // 2, len(lines)) if re.match(r"\d{4}-", lines[n]))
    return "".join(lines[:cut]), "".join(lines[cut:])


@contextlib.contextmanager
def osmem(port: int = 0) -> Iterator[Any]:
    from osmem_server import OsmemServer

    server = OsmemServer.start(freeze=False, japanese=False, addr=f"127.0.0.1:{port}")
    try:
        yield server
    finally:
        server.close(grace=2)


def kill(server: Any) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.process.wait(5)


def stored(url: str, index: str = "osops-logs") -> set[str]:
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[url])
    client.indices.refresh(index=index)
    hits = client.search(index=index, body={"size": 10000, "_source": False})["hits"]["hits"]
    return {hit["_id"] for hit in hits}


@contextlib.contextmanager
def shipping(log: Path, state: Path, sink: str, *urls: str) -> Iterator[subprocess.Popen[str]]:
    hosts = [arg for url in urls for arg in ("--option", f"hosts={url}")]
    argv = [str(OSOPS), "log", "ship", str(log), "--sink", sink, *hosts]
    argv += ["--option", "retries=1", "--state", str(state), "--follow", "--format", "json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def summary(proc: subprocess.Popen[str]) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return dict(json.loads(out))


def offset(state: Path, log: Path) -> int:
    try:
        return int(json.loads(state.read_text())["files"][str(log)]["offset"])
    except (FileNotFoundError, KeyError):
        return 0


@pytest.mark.parametrize("sink", ["opensearch", "elasticsearch"])
def test_one_host_killed_while_following(tmp_path: Path, sink: str) -> None:
    first, second = halves()
    log, state = tmp_path / "nova-api.log", tmp_path / "state.json"
    log.write_text(first)
    es = sink == "elasticsearch"
    with (
        osmem() as one,
        osmem() as two,
        proxy(one.url, elasticsearch=es) as victim,
        proxy(two.url, elasticsearch=es) as survivor,
        shipping(log, state, sink, victim.url, survivor.url) as proc,
    ):
        both = lambda: victim.acked.keys() | survivor.acked.keys()  # noqa: E731
        wait_until(lambda: offset(state, log) == len(first.encode()), 30, "the first half shipped")
        assert victim.acked and survivor.acked, "batches spread over both hosts"
        before = len(both())
        kill(one)
        victim.shutdown()
        victim.server_close()
        killed = time.monotonic()
        with log.open("a") as fh:
            fh.write(second)
        wait_until(lambda: len(both()) == RECORDS, 60, "every record acknowledged")
        failover = time.monotonic() - killed
        assert summary(proc)["shipped"] == RECORDS
        assert offset(state, log) == log.stat().st_size
        # Nothing lost: what the dead host acknowledged, and the survivor's whole store.
        assert len(victim.acked.keys() | stored(two.url)) == RECORDS
        # Nothing duplicated: no id acknowledged twice, by one host or by both.
        assert sum(victim.acked.values()) + sum(survivor.acked.values()) == RECORDS
        assert stored(two.url) == set(survivor.acked)
        print(f"{sink}: {before} records before the kill, all {RECORDS} {failover:.2f}s after")


def test_all_hosts_down_state_waits_then_resumes(tmp_path: Path) -> None:
    first, second = halves()
    log, state = tmp_path / "nova-api.log", tmp_path / "state.json"
    log.write_text(first)
    with osmem() as one, osmem() as two:
        port = int(two.url.rsplit(":", 1)[1])
        with shipping(log, state, "opensearch", one.url, two.url) as proc:
            wait_until(lambda: offset(state, log) == len(first.encode()), 30, "first half shipped")
            kill(one)
            kill(two)
            with log.open("a") as fh:
                fh.write(second)
            time.sleep(4)  # the shipper has read the second half and keeps failing
            assert proc.poll() is None, proc.stderr and proc.stderr.read()
            assert offset(state, log) == len(first.encode()), "state advanced with no host up"
            with osmem(port) as back:
                returned = time.monotonic()
                wait_until(
                    lambda: offset(state, log) == log.stat().st_size, 60, "shipping resumed"
                )
                resumed = time.monotonic() - returned
                result = summary(proc)
                # Exactly the records not yet acknowledged, once each.
                assert result["shipped"] == RECORDS
                assert len(stored(back.url)) == RECORDS - records(tmp_path, first)
                print(f"all down: resumed {resumed:.2f}s after a host returned")


def records(where: Path, text: str) -> int:
    part = where / "part.log"
    part.write_text(text)
    return len(run_osops("log", "parse", str(part)).stdout.splitlines())
