"""Exporters: Grafana JSON whose PromQL promtool accepts and a real Prometheus answers,
Kibana saved objects naming only fields the log pipeline emits, and an HTML page that
headless Chromium draws."""

from __future__ import annotations

import json
import re
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, SAMPLES, run_osops

from osops.dashboard import definitions
from osops.log import pipeline
from osops_logging.kibana import fields_named
from osops_monitoring.grafana import promql

SHIPPED = sorted((ROOT / "dashboards").glob("*.yaml"))


def export(name: str, to: str, *options: str) -> str:
    args = [f"--option={o}" for o in options]
    proc = run_osops("dashboard", "export", name, "--to", to, *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def all_promql() -> list[str]:
    return [
        expr.encode().decode("unicode_escape")
        for path in SHIPPED
        for expr in promql(export(path.stem, "grafana"))
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_grafana_dashboard(path: Path) -> None:
    board = json.loads(export(path.stem, "grafana"))
    definition = definitions.load(str(path))
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert [p["title"] for p in panels] == [p.title for p in definition.panels]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["prometheus"]["type"] == "datasource"
    assert variables["prometheus"]["query"] == "prometheus"
    assert variables["logs"]["query"] == "elasticsearch"
    for ours, theirs in zip(definition.panels, panels, strict=True):
        assert theirs["datasource"]["uid"] == (
            "${prometheus}" if ours.source == "metrics" else "${logs}"
        )
        if ours.source == "metrics":
            assert theirs["targets"][0]["expr"] == ours.query


def _promtool(exprs: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    rules = {
        "groups": [
            {
                "name": "osops",
                "rules": [
                    {"record": f"osops:query{n}", "expr": expr} for n, expr in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps(rules))
    return subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_promtool_accepts_every_query(tmp_path: Path) -> None:
    exprs = all_promql()
    assert len(exprs) >= 15
    proc = _promtool(exprs, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in proc.stdout
    assert _promtool(["sum(osops_check_state"], tmp_path).returncode != 0  # it can fail


@pytest.mark.integration
def test_every_query_returns_data_from_prometheus(
    prometheus: dict[str, Any],
    cloud: dict[str, Any],
    rabbitmq: dict[str, Any],
    galera: dict[str, Any],
    tmp_path: Path,
) -> None:
    import requests

    clouds = cloud["env"]["OS_CLIENT_CONFIG_FILE"]
    os_options = f"os-cloud: test, os-client-config-file: '{clouds}'"
    suite = tmp_path / "cloud.yaml"
    suite.write_text(f"""
checks:
  - {{check: keystone_token, options: {{{os_options}}}}}
  - {{check: api_endpoint, options: {{{os_options}, all: true}}}}
  - {{check: nova_services, options: {{{os_options}}}}}
  - {{check: neutron_agents, options: {{{os_options}}}}}
  - {{check: cinder_services, options: {{{os_options}}}}}
  - {{check: rabbitmq, options: {{url: '{rabbitmq["url"]}', username: {rabbitmq["username"]}, password: {rabbitmq["password"]}}}}}
  - {{check: galera, options: {{host: 127.0.0.1, port: {galera["port"]}, username: {galera["username"]}, password: {galera["password"]}}}}}
""")
    proc = run_osops(
        "check",
        "suite",
        str(suite),
        "--prometheus-textfile",
        str(prometheus["textfile"]),
        "-f",
        "json",
    )
    # Every check must have measured (its state may be WARNING on a loaded machine),
    # and the suite exits with the worst of them.
    states = [row["State"] for row in json.loads(proc.stdout)]
    assert "UNKNOWN" not in states, proc.stdout
    codes = {"OK": 0, "WARNING": 1, "CRITICAL": 2}
    assert proc.returncode == max(codes[state] for state in states), proc.stdout + proc.stderr
    exprs = all_promql()
    missing: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        missing = []
        for expr in exprs:
            answer = requests.get(
                f"{prometheus['url']}/api/v1/query", params={"query": expr}, timeout=10
            ).json()
            assert answer["status"] == "success", (expr, answer)
            if not answer["data"]["result"]:
                missing.append(expr)
        if not missing:
            break
        time.sleep(1)
    assert missing == []


def _records_fields() -> set[str]:
    chain = pipeline.build_chain(None)
    seen: set[str] = set()
    for path in [*SAMPLES.glob("hp-ms-01-c29.*.log"), SAMPLES / "oslo" / "nova-compute.log"]:
        for record in chain.records(str(path)):
            seen |= set(record.to_dict())
    return seen


def test_kibana_saved_objects() -> None:
    emitted = _records_fields()
    for path in SHIPPED:
        proc = run_osops("dashboard", "export", path.stem, "--to", "kibana")
        if not any(p.source == "logs" for p in definitions.load(str(path)).panels):
            assert proc.returncode == 1 and "has no log panels" in proc.stderr
            continue
        assert proc.returncode == 0, proc.stderr
        objects = [json.loads(line) for line in proc.stdout.splitlines()]
        definition = definitions.load(str(path))
        titles = [p.title for p in definition.panels if p.source == "logs"]
        # The index pattern (the exporter's default), one object per log panel, the dashboard.
        assert [o["attributes"]["title"] for o in objects] == [
            "osops-logs*",
            *titles,
            definition.title,
        ]
        ids = {(o["type"], o["id"]) for o in objects}
        for obj in objects:
            assert {"type", "id", "attributes", "references"} <= set(obj)
            for reference in obj["references"]:
                assert (reference["type"], reference["id"]) in ids
            if obj["type"] == "visualization":
                state = json.loads(obj["attributes"]["visState"])
                assert state["type"] in ("line", "metric", "table") and state["aggs"]
                json.loads(obj["attributes"]["uiStateJSON"])
            if obj["type"] in ("visualization", "search"):
                source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
                assert source["indexRefName"] == obj["references"][0]["name"]
            if obj["type"] == "dashboard":
                layout = json.loads(obj["attributes"]["panelsJSON"])
                names = {r["name"] for r in obj["references"]}
                assert {p["panelRefName"] for p in layout} == names
        assert objects[0]["type"] == "index-pattern" and objects[-1]["type"] == "dashboard"
        named = fields_named(proc.stdout)
        assert named and named <= emitted, named - emitted


def _png_colours(path: Path) -> int:
    """Distinct pixel rows in a PNG: a blank page has one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat, position = b"", 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(idat)
    width = int.from_bytes(data[16:20], "big")
    stride = 1 + width * 4 if data[25] == 6 else 1 + width * 3
    return len({raw[i : i + stride][1:] for i in range(0, len(raw), stride)})


@pytest.mark.integration
def test_html_page_draws_in_chromium(tmp_path: Path, memcached: int) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"checks:\n  - {{check: memcached, options: {{port: {memcached}}}}}\n"
        "  - {check: dummy, name: api, options: {state: 2, text: api down}}\n"
    )
    results, stats = tmp_path / "results.json", tmp_path / "stats.json"
    run_osops("check", "suite", str(suite), "--save", str(results))
    stats.write_text(
        run_osops(
            "log", "stats", *map(str, SAMPLES.glob("hp-ms-01-c29.*.log")), "--format", "json"
        ).stdout
    )
    page = tmp_path / "logs.html"
    for name in ("logs", "openstack-overview"):
        page = tmp_path / f"{name}.html"
        proc = run_osops(
            "dashboard",
            "export",
            name,
            "--to",
            "html",
            "-o",
            str(page),
            "--option",
            f"results={results}",
            "--option",
            f"stats={stats}",
        )
        assert proc.returncode == 0, proc.stderr
        text = page.read_text()
        assert not re.search(r"""(?:src|href)=["']?https?:""", text)  # nothing to fetch
        assert "<svg" in text and "api down" in text
        shot = tmp_path / f"{name}.png"
        browser = subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-component-update",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--enable-logging=stderr",
                "--v=0",
                f"--screenshot={shot}",
                "--window-size=1280,1600",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert browser.returncode == 0, browser.stderr[-2000:]
        console = [line for line in browser.stderr.splitlines() if "CONSOLE" in line]
        assert console == []
        assert _png_colours(shot) > 50  # text, tables and bars, not a blank page
