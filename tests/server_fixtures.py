"""Session fixtures that start real servers on 127.0.0.1 and stop them by pid."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import daemon, free_port, wait_until


@pytest.fixture(scope="session")
def memcached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real memcached on 127.0.0.1, holding a few keys; yields its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("memcached") / "memcached.log"
    argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-u", "nobody", "-c", "64"]
    with daemon(argv, port, log):
        with socket.create_connection(("127.0.0.1", port), 5) as conn:
            conn.sendall(b"set k 0 0 1\r\nv\r\nget k\r\nget missing\r\n")
            # Read every answer (a hit and a miss counted) before a test asks for stats.
            answers = b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\nEND\r\n"
            got = b""
            while len(got) < len(answers) and (chunk := conn.recv(4096)):
                got += chunk
            assert got == answers, got
        yield port


@pytest.fixture(scope="session")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real HAProxy: backend 'api' with one server up and one down, 'dead' all down.

    Yields the stats socket path, the stats page URL and its credentials.
    """
    where = tmp_path_factory.mktemp("haproxy")
    with socket.socket() as alive:
        alive.bind(("127.0.0.1", 0))
        alive.listen(64)
        stats_port = free_port()
        config = where / "haproxy.cfg"
        config.write_text(
            "global\n"
            f"    stats socket {where}/stats.sock mode 600 level admin\n"
            "defaults\n    mode http\n    timeout connect 1s\n"
            "    timeout client 5s\n    timeout server 5s\n"
            f"frontend stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n"
            "    stats uri /stats\n    stats auth admin:St4ts-Pw\n"
            "backend api\n"
            f"    server api1 127.0.0.1:{alive.getsockname()[1]} check inter 200 rise 1 fall 1\n"
            f"    server api2 127.0.0.1:{free_port()} check inter 200 rise 1 fall 1\n"
            "backend dead\n"
            f"    server dead1 127.0.0.1:{free_port()} check inter 200 rise 1 fall 1\n"
        )
        with daemon(["haproxy", "-db", "-f", str(config)], stats_port, where / "haproxy.log"):
            wait_until(lambda: _haproxy_settled(where / "stats.sock"), 20, "haproxy health checks")
            yield {
                "socket": str(where / "stats.sock"),
                "url": f"http://127.0.0.1:{stats_port}/stats",
                "username": "admin",
                "password": "St4ts-Pw",
            }


def _haproxy_settled(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(path))
        conn.sendall(b"show stat\n")
        text = b""
        while chunk := conn.recv(65536):
            text += chunk
    states = {
        line.split(",")[1]: line.split(",")[17]
        for line in text.decode().splitlines()[1:]
        if line.count(",") > 17
    }
    return states.get("api1") == "UP" and states.get("api2") == "DOWN" == states.get("dead1")


GALERA_USER = {"username": "osops", "password": "Galera-Pw-1"}


def _mariadb(where: Path, port: int, wsrep: bool) -> list[str]:
    """Initialise a data directory and return the mariadbd command line for it."""
    data = where / "data"
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    argv = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={where}/mysql.sock",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--user=root",
        f"--pid-file={where}/mysql.pid",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
    ]
    if wsrep:
        gcomm, ist = free_port(), free_port()
        argv += [
            "--wsrep-on=ON",
            "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
            "--wsrep-cluster-address=gcomm://",
            "--wsrep-new-cluster",
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-node-address=127.0.0.1",
            f"--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm};"
            f"ist.recv_addr=127.0.0.1:{ist}",
        ]
    return argv


def _grant(where: Path) -> None:
    sql = (
        f"CREATE USER '{GALERA_USER['username']}'@'127.0.0.1' IDENTIFIED BY "
        f"'{GALERA_USER['password']}'; GRANT USAGE ON *.* TO '{GALERA_USER['username']}'@'127.0.0.1';"
    )
    subprocess.run(
        ["mariadb", "--no-defaults", "-S", f"{where}/mysql.sock", "-uroot", "-e", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _wsrep_synced(where: Path) -> bool:
    out = subprocess.run(
        [
            "mariadb",
            "--no-defaults",
            "-S",
            f"{where}/mysql.sock",
            "-uroot",
            "-N",
            "-e",
            "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout
    return "Synced" in out


@pytest.fixture(scope="session")
def galera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """MariaDB as a single-node Galera cluster (galera-4), with an unprivileged user."""
    where = tmp_path_factory.mktemp("galera")
    port = free_port()
    with daemon(_mariadb(where, port, wsrep=True), port, where / "mariadb.log"):
        wait_until(lambda: _wsrep_synced(where), 30, "galera node")
        _grant(where)
        yield {"host": "127.0.0.1", "port": port, **GALERA_USER}


# The root socket of each plain MariaDB, by port: tests that create databases
# (db_schema) need root; the galera tests take every key of the fixture as an option.
_MARIADB_SOCKETS: dict[int, str] = {}


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A plain MariaDB, not in any cluster."""
    where = tmp_path_factory.mktemp("mariadb")
    port = free_port()
    with daemon(_mariadb(where, port, wsrep=False), port, where / "mariadb.log"):
        _grant(where)
        _MARIADB_SOCKETS[port] = f"{where}/mysql.sock"
        yield {"host": "127.0.0.1", "port": port, **GALERA_USER}


@pytest.fixture(scope="session")
def mariadb_root(mariadb: dict[str, Any]) -> str:
    """The unix socket root logs in through (socket authentication) on the plain MariaDB."""
    return _MARIADB_SOCKETS[mariadb["port"]]


RABBIT_USER = {"username": "osops", "password": "Rabb1t-Pw"}


@pytest.fixture(scope="session")
def rabbitmq_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """RabbitMQ with the management plugin, all listeners on 127.0.0.1 (support.rabbitmq)."""
    from support import rabbitmq

    with rabbitmq.running(tmp_path_factory.mktemp("rabbitmq")) as node:
        yield node


@pytest.fixture(scope="session")
def rabbitmq(rabbitmq_node: Any) -> dict[str, Any]:
    """The node, holding queue 'work' with 3 ready messages and no consumer in vhost '/',
    and a monitoring user. Yields the options of the rabbitmq check: the management URL,
    the credentials, and vhost '/' (the test cloud's services use vhost 'openstack')."""
    node = rabbitmq_node

    def seed() -> None:
        node.request(
            "PUT", "/api/users/osops", {"password": RABBIT_USER["password"], "tags": "monitoring"}
        )
        node.request(
            "PUT", "/api/permissions/%2F/osops", {"configure": "", "write": "", "read": ".*"}
        )
        node.request("PUT", "/api/queues/%2F/work", {"durable": False})
        if node.request("GET", "/api/queues/%2F/work").get("messages_ready") == 3:
            return  # a restart kept it (it drops transient queues)
        for n in range(3):
            node.request(
                "POST",
                "/api/exchanges/%2F/amq.default/publish",
                {
                    "properties": {},
                    "routing_key": "work",
                    "payload": f"job {n}",
                    "payload_encoding": "string",
                },
            )
        wait_until(
            lambda: node.request("GET", "/api/queues/%2F/work").get("messages_ready") == 3,
            30,
            "rabbitmq queue statistics",
        )

    seed()
    node.on_restart.append(seed)  # a test that restarts the broker leaves this as it was
    return {"url": node.api, **RABBIT_USER, "vhost": "/"}


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Keystone from PyPI (sqlite, fernet) served by gunicorn (support.keystone).

    Yields the Keystone URL, the server, and OS_CLIENT_CONFIG_FILE env with
    clouds: ``test`` (admin), ``wrong`` (bad password), ``down`` (nothing listening),
    ``tls`` (https to a plain-http Keystone), ``faulty`` (admin in region RegionTwo,
    where the ``cloud`` fixture puts its fault-injecting proxies).
    """
    from support import keystone as support_keystone

    where = tmp_path_factory.mktemp("keystone")
    with support_keystone.running(where) as server:
        clouds = server.clouds_yaml(where / "clouds.yaml", {"faulty": "RegionTwo"})
        yield {
            "url": server.url,
            "config": str(server.config),
            "server": server,
            "env": {"OS_CLIENT_CONFIG_FILE": str(clouds)},
            "password": server.password,
        }


@pytest.fixture(scope="session")
def cloud(
    tmp_path_factory: pytest.TempPathFactory, keystone: dict[str, Any], rabbitmq_node: Any
) -> Iterator[dict[str, Any]]:
    """A real OpenStack behind the Keystone fixture (support.cloud): Placement, Glance,
    Nova (fake driver), Cinder (fake driver), Neutron (ML2, a DHCP agent), with flavors,
    an image and external networks (support.cloud.seed).

    Yields the Keystone fixture's keys plus ``cloud`` (processes, admin client,
    timings), ``ids`` of what was seeded, and ``proxies``: the fault-injecting
    proxies in front of compute, network and volumev3 in region RegionTwo.
    """
    from support import fault_proxy
    from support.cloud import FAULT_REGION, Cloud
    from support.cloud.seed import seed

    where = tmp_path_factory.mktemp("cloud")
    started = time.monotonic()
    real = Cloud(
        where, keystone["url"], keystone["password"], rabbitmq_node.api, rabbitmq_node.amqp
    )
    real.start()
    proxies: dict[str, Any] = {}
    try:
        ids = seed(real.api)
        for name, kind, upstream in (
            ("nova", "compute", real.settings.url("nova") + "/v2.1"),
            ("neutron", "network", real.settings.url("neutron")),
            ("cinderv3", "volumev3", real.settings.url("cinder") + "/v3/%(project_id)s"),
        ):
            root, _, path = upstream.partition("/v")
            proxies[kind] = fault_proxy.start(root)
            real.register(
                name, kind, proxies[kind].url + (f"/v{path}" if path else ""), FAULT_REGION
            )
        # Keystone itself in that region too: checks that list projects find it there.
        real.register("keystone", "identity", keystone["url"] + "/v3", FAULT_REGION)
        real.timings["fixture"] = time.monotonic() - started
        yield {**keystone, "cloud": real, "ids": ids, "proxies": proxies}
    finally:
        for proxy in proxies.values():
            fault_proxy.stop(proxy)
        real.stop()


@pytest.fixture(scope="session")
def monitoring_osops() -> Iterator[Path]:
    """osops installed for the nagios user: a readable venv of the system Python."""
    import monitoring_daemons

    where = monitoring_daemons.readable_dir("osops-venv-")
    try:
        yield monitoring_daemons.build_venv(where)
    finally:
        shutil.rmtree(where, ignore_errors=True)


class Rsyslog:
    """rsyslog as a Logstash-protocol receiver: imtcp/imudp, mmjsonparse, one JSON per line."""

    def __init__(self, where: Path) -> None:
        self.where = where
        self.tcp = free_port()
        self.udp = free_port()
        self.events = where / "events.json"
        self.config = where / "rsyslog.conf"
        self.config.write_text(
            f'global(workDirectory="{where}" maxMessageSize="1m")\n'
            'module(load="imtcp")\nmodule(load="imudp")\nmodule(load="mmjsonparse")\n'
            'template(name="json" type="list") { property(name="$!all-json") '
            'constant(value="\\n") }\n'
            'ruleset(name="osops") {\n'
            '  action(type="mmjsonparse" cookie="" useRawMsg="on")\n'
            f'  if $parsesuccess == "OK" then action(type="omfile" file="{self.events}" '
            'template="json")\n'
            f'  else action(type="omfile" file="{where}/unparsed.log")\n'
            "}\n"
            f'input(type="imtcp" address="127.0.0.1" port="{self.tcp}" ruleset="osops")\n'
            f'input(type="imudp" address="127.0.0.1" port="{self.udp}" ruleset="osops")\n'
        )
        self._daemon: Any = None

    def start(self) -> None:
        argv = ["rsyslogd", "-n", "-f", str(self.config), "-i", str(self.where / "rsyslog.pid")]
        self._daemon = daemon(argv, self.tcp, self.where / "rsyslogd.log")
        self._daemon.__enter__()

    def stop(self) -> None:
        if self._daemon is not None:
            self._daemon.__exit__(None, None, None)
            self._daemon = None

    def received(self) -> list[dict[str, Any]]:
        import json

        if not self.events.exists():
            return []
        # rsyslog may be writing the last line as it is read: only whole lines count.
        text = self.events.read_text()
        return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines() if line]


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    """A fresh rsyslog receiver for one test (tests stop and restart it)."""
    receiver = Rsyslog(tmp_path)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """node_exporter reading a textfile-collector directory, scraped every second by a
    Prometheus on 127.0.0.1. Yields the directory and the Prometheus URL."""
    where = tmp_path_factory.mktemp("prometheus")
    textfile = where / "textfile"
    textfile.mkdir()
    exporter_port, prometheus_port = free_port(), free_port()
    (where / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: osops\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter_port}']\n"
    )
    exporter = [
        "prometheus-node-exporter",
        f"--web.listen-address=127.0.0.1:{exporter_port}",
        f"--collector.textfile.directory={textfile}",
        "--collector.disable-defaults",
        "--collector.textfile",
    ]
    server = [
        "prometheus",
        f"--config.file={where}/prometheus.yml",
        f"--storage.tsdb.path={where}/data",
        f"--web.listen-address=127.0.0.1:{prometheus_port}",
    ]
    with (
        daemon(exporter, exporter_port, where / "node-exporter.log"),
        daemon(server, prometheus_port, where / "prometheus.log"),
    ):
        yield {"textfile": textfile, "url": f"http://127.0.0.1:{prometheus_port}"}
