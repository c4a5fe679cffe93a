"""As operators install osops: plain ``pip install`` of the distributions into a fresh venv.

No tools/setup, no requirements.txt: the venv is the system Python's own
(``/usr/bin/python3 -m venv``), pip installs core osops, osops-monitoring,
osops-logging and osops-upgrade from copies of their source with build isolation
(setuptools and mypy fetched for the build, the parser compiled by mypyc), pinned by
constraints.txt only, so that what lands is what each distribution requires. From
that venv run a check of each kind (HTTP, a socket protocol, requests, PyMySQL,
keystoneauth1 and openstacksdk, oslo.config), a sink of each kind (jsonl, logstash
over AMQP, opensearch, elasticsearch), the parse filter and every exporter, against
the suite's real servers; then remove one library by hand and see every plugin that
needs it named, with the fix, before it runs. pip's cache keeps downloads and the wheels
it built from sdists; the install takes about 30 s on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, SAMPLES, compiled_modules
from search_proxy import proxy

pytestmark = pytest.mark.integration

#: What each distribution's source tree needs to build (the rest stays behind).
TREES = {
    ".": ("osops", "dashboards", "setup.cfg", "pyproject.toml", "README.md"),
    "contrib/monitoring": ("osops_monitoring", "setup.cfg", "pyproject.toml"),
    "contrib/logging": ("osops_logging", "setup.cfg", "setup.py", "pyproject.toml"),
    "contrib/upgrade": ("osops_upgrade", "setup.cfg", "pyproject.toml"),
}
NOVA_API = SAMPLES / "hp-ms-01-c29.nova-api.log"


def _environment() -> dict[str, str]:
    """This process's environment less what would make the venv see the test venv."""
    drop = {"OSOPS_MYPYC", "PYTHONPATH", "VIRTUAL_ENV", "PIP_CONSTRAINT"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _copy(source: Path) -> Path:
    """The four source trees, as a checkout lays them out, without build leftovers."""
    for where, names in TREES.items():
        for name in names:
            origin, target = ROOT / where / name, source / where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.so", "build", "*.egg-info")
                shutil.copytree(origin, target, ignore=ignore)
            else:
                shutil.copy2(origin, target)
    return source


class Venv:
    """The fresh venv: its directory, and osops run from it as an operator runs it."""

    def __init__(self, path: Path, install_output: str, seconds: float) -> None:
        self.path = path
        self.install_output = install_output
        self.seconds = seconds

    def pip(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path / "bin" / "pip"), "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            env={**_environment(), **(env or {})},
            timeout=600,
            check=False,
        )

    def osops(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path / "bin" / "osops"), *args],
            capture_output=True,
            text=True,
            env={**_environment(), **(env or {})},
            timeout=120,
            check=False,
            cwd=cwd,
        )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    where = tmp_path_factory.mktemp("operator")
    source = _copy(where / "source")
    path = where / "venv"
    started = time.monotonic()
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(path)], check=True, timeout=120)
    done = subprocess.run(
        [
            *(str(path / "bin" / "pip"), "--disable-pip-version-check", "install", "-v"),
            *("-c", str(ROOT / "constraints.txt")),
            *(str(source / where) for where in TREES),
        ],
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=where,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return Venv(path, output, time.monotonic() - started)


def test_the_install_compiles_the_parser_and_every_plugin_conforms(venv: Venv) -> None:
    assert "osops-logging: built the log parser compiled by mypyc" in venv.install_output
    site = next((venv.path / "lib").glob("python3*/site-packages"))
    modules = {p.name.split(".")[0] for p in (site / "osops_logging").glob("*.so")}
    assert modules == set(compiled_modules()) and "lines" in modules
    assert list(site.glob("osops_logging__mypyc*.so"))
    shown = venv.osops("plugin", "show", "filter", "parse", "-f", "value", "-c", "build")
    assert shown.stdout.strip() == "compiled by mypyc", shown.stderr
    verify = venv.osops("plugin", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    listed = json.loads(venv.osops("plugin", "list", "-f", "json").stdout)
    assert {row["Status"] for row in listed} == {"ok"}
    assert {row["Distribution"] for row in listed} == {
        "osops",
        "osops-monitoring",
        "osops-logging",
        "osops-upgrade",
    }
    print(f"fresh venv and pip install: {venv.seconds:.1f} s")


def _config(tmp_path: Path, name: str, values: dict[str, Any]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in values.items()))
    return str(path)


def test_a_check_of_each_kind(
    venv: Venv,
    keystone: dict[str, Any],
    memcached: int,
    rabbitmq: dict[str, Any],
    mariadb: dict[str, Any],
    tmp_path: Path,
) -> None:
    runs = {
        # core osops: HTTP from the standard library
        "HTTP OK - HTTP 200": ("http", "--url", keystone["url"] + "/v3"),
        # a socket protocol of its own
        "MEMCACHED OK": ("memcached", "--port", str(memcached)),
        # requests, the management API
        "RABBITMQ OK": ("rabbitmq", "--config", _config(tmp_path, "rabbitmq", rabbitmq)),
        # PyMySQL
        "GALERA OK": ("galera", "--config", _config(tmp_path, "galera", mariadb)),
        # keystoneauth1 and openstacksdk, clouds.yaml
        "KEYSTONE_TOKEN OK": ("keystone_token", "--os-cloud", "test"),
        # osops-upgrade: oslo.config reads the file
        "UPGRADE_CONFIG ": (
            *("upgrade_config", "--service", "keystone", "--from", "2025.1"),
            *("--file", str(ROOT / "tests/contrib/upgrade/configs/keystone-2025.1.conf")),
        ),
    }
    for expected, argv in runs.items():
        proc = venv.osops("check", "run", *argv, env=keystone["env"])
        assert proc.stdout.startswith(expected), (argv[0], proc.stdout, proc.stderr)
        assert "UNKNOWN" not in proc.stdout.splitlines()[0], proc.stdout


def _bind_queue(node: Any, name: str) -> None:
    node.request("PUT", f"/api/exchanges/%2F/{name}", {"type": "fanout", "durable": True})
    node.request("PUT", f"/api/queues/%2F/{name}", {"durable": True})
    node.request("POST", f"/api/bindings/%2F/e/{name}/q/{name}", {"routing_key": ""})


def _queued(node: Any, name: str) -> int:
    taken = node.request(
        "POST",
        f"/api/queues/%2F/{name}/get",
        {"count": 10, "ackmode": "ack_requeue_false", "encoding": "auto"},
    )
    return len(taken)


@pytest.fixture
def amqp_exchange(rabbitmq_node: Any) -> Iterator[str]:
    name = "osops-pip-install"
    _bind_queue(rabbitmq_node, name)
    try:
        yield name
    finally:
        rabbitmq_node.request("DELETE", f"/api/queues/%2F/{name}")
        rabbitmq_node.request("DELETE", f"/api/exchanges/%2F/{name}")


def test_a_sink_of_each_kind_and_the_parser(
    venv: Venv, osmem_url: str, rabbitmq_node: Any, amqp_exchange: str, tmp_path: Path
) -> None:
    log = tmp_path / "nova-api.log"
    log.write_text("".join(NOVA_API.read_text().splitlines(keepends=True)[:8]))
    parsed = venv.osops("log", "parse", str(log))
    assert parsed.returncode == 0, parsed.stderr
    records = [json.loads(line) for line in parsed.stdout.splitlines()]
    assert records and all(r["service.name"] == "nova-api" for r in records)
    count = len(records)

    def ship(sink: str, *options: str) -> None:
        argv = [word for option in options for word in ("--option", option)]
        proc = venv.osops(
            "log", "ship", str(log), "--sink", sink, *argv, "--state", str(tmp_path / sink)
        )
        assert proc.returncode == 0, (sink, proc.stderr)

    ship("jsonl", f"path={tmp_path / 'out.jsonl'}")
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == count
    ship("logstash", "protocol=amqp", f"port={rabbitmq_node.amqp}", f"exchange={amqp_exchange}")
    assert _queued(rabbitmq_node, amqp_exchange) == count
    ship("opensearch", f"hosts={osmem_url}", "index=pip-install")
    with proxy(osmem_url, elasticsearch=True) as front:
        ship("elasticsearch", f"hosts={front.url}", "index=pip-install-es")
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[osmem_url])
    for index in ("pip-install", "pip-install-es"):
        client.indices.refresh(index=index)
        assert client.count(index=index)["count"] == count


@pytest.mark.parametrize(
    "dashboard, exporter", [("logs", "html"), ("rabbitmq", "grafana"), ("logs", "kibana")]
)
def test_every_exporter(venv: Venv, dashboard: str, exporter: str, tmp_path: Path) -> None:
    out = tmp_path / f"{dashboard}.{exporter}"
    proc = venv.osops("dashboard", "export", dashboard, "--to", exporter, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    if exporter == "html":
        assert text.lower().startswith("<!doctype html>")
    elif exporter == "grafana":
        assert json.loads(text)["panels"]
    else:  # Kibana's saved objects, one JSON document a line
        assert {json.loads(line)["type"] for line in text.splitlines()} >= {"dashboard"}


def test_release_wheels_install_the_compiled_parser_without_a_compiler(
    venv: Venv, tmp_path: Path
) -> None:
    # tools/build-wheels: the operators without a compiler get the compiled parser
    # from osops-logging's manylinux wheel; the others are pure, and each has an sdist.
    dist = tmp_path / "dist"
    done = subprocess.run(
        [str(ROOT / "tools" / "build-wheels"), str(dist)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "OSOPS_MYPYC"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    files = sorted(p.name for p in dist.iterdir())
    assert [f for f in files if f.endswith(".tar.gz")] == [
        "osops-0.1.0.tar.gz",
        "osops_logging-0.1.0.tar.gz",
        "osops_monitoring-0.1.0.tar.gz",
        "osops_upgrade-0.1.0.tar.gz",
    ]
    (logging_wheel,) = [f for f in files if f.startswith("osops_logging-") and f.endswith(".whl")]
    assert "manylinux" in logging_wheel
    for pure in ("osops", "osops_monitoring", "osops_upgrade"):
        assert f"{pure}-0.1.0-py3-none-any.whl" in files
    # Installed where no compiler works: a wheel is never built, only unpacked.
    target = tmp_path / "site"
    installed = venv.pip(
        "install", "--no-deps", "--target", str(target), str(dist / logging_wheel),
        env={"CC": "/bin/false"},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    shown = venv.osops(
        "plugin", "show", "filter", "parse", "-f", "value", "-c", "build",
        env={"PYTHONPATH": str(target)},
    )  # fmt: skip
    assert shown.stdout.strip() == "compiled by mypyc", shown.stderr
    parsed = venv.osops(
        "log", "parse", str(NOVA_API), env={"PYTHONPATH": str(target)}, cwd=tmp_path
    )
    assert parsed.returncode == 0 and len(parsed.stdout.splitlines()) == 2188, parsed.stderr
    # Its sdist, where no compiler works, builds the pure Python parser and says so.
    pure = venv.pip(
        "install", "-v", "--no-deps", "--target", str(tmp_path / "pure"),
        str(dist / "osops_logging-0.1.0.tar.gz"), env={"CC": "/bin/false"},
    )  # fmt: skip
    assert pure.returncode == 0, pure.stderr[-2000:]
    assert "building the log parser as pure Python" in pure.stdout + pure.stderr
    assert not list((tmp_path / "pure" / "osops_logging").glob("*.so"))


def test_a_library_gone_from_the_venv_is_named_before_any_plugin_runs(venv: Venv) -> None:
    # The venv that lacks one library: requests, removed by hand. osops-monitoring's
    # plugins say so from its metadata, whether or not they import it at the top.
    # Last in this module: it puts requests back (from pip's cache) when done.
    assert venv.pip("uninstall", "--yes", "requests").returncode == 0
    try:
        missing = "missing: requests (pip install 'requests>=2.25')"
        listed = json.loads(venv.osops("plugin", "list", "-f", "json").stdout)
        status = {(row["Distribution"], row["Name"]): row["Status"] for row in listed}
        assert status[("osops-monitoring", "rabbitmq")] == missing
        assert {s for (d, _), s in status.items() if d == "osops-monitoring"} == {missing}
        assert {s for (d, _), s in status.items() if d == "osops"} == {"ok"}
        shown = venv.osops("plugin", "show", "check", "rabbitmq", "-f", "value", "-c", "status")
        assert shown.stdout.strip() == missing
        verify = venv.osops("plugin", "verify", "-f", "value", "-c", "Name")
        assert verify.returncode == 1 and "rabbitmq" in verify.stdout.split()
        run = venv.osops("check", "run", "rabbitmq")
        assert (run.returncode, run.stdout) == (
            3,
            f"RABBITMQ UNKNOWN - check 'rabbitmq' from osops-monitoring: {missing}\n",
        )
        export = venv.osops("check", "export", "--format", "json")
        assert export.returncode == 1
        exported = {check["name"] for check in json.loads(export.stdout)}
        assert {"http", "dummy", "upgrade_config"} <= exported and "rabbitmq" not in exported
        assert (
            f"check export: check 'rabbitmq' from osops-monitoring not exported: {missing}"
            in export.stderr.splitlines()
        )
        allowed = venv.osops("check", "export", "--format", "json", "--allow-broken")
        assert allowed.returncode == 0 and allowed.stdout == export.stdout
    finally:
        back = venv.pip("install", "-c", str(ROOT / "constraints.txt"), "requests")
        assert back.returncode == 0, back.stderr
