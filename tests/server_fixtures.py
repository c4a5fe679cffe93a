"""Session fixtures that start real servers on 127.0.0.1 and stop them by pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
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


def _rabbit_api(port: int, method: str, path: str, body: Any = None) -> Any:
    import requests

    response = requests.request(
        method, f"http://127.0.0.1:{port}{path}", json=body, auth=("guest", "guest"), timeout=10
    )
    response.raise_for_status()
    return response.json() if response.content else None


class RabbitNode:
    """The suite's RabbitMQ node: its ports, and a restart of the broker in it.

    It holds queue 'work' with 3 ready messages and no consumer, and a
    monitoring user, also after a restart (the rabbitmq check's tests count on them).
    """

    def __init__(self, where: Path, amqp: int, api: int, env: dict[str, str]) -> None:
        self.where, self.amqp, self.api, self.env = where, amqp, api, env

    def ctl(self, *args: str) -> None:
        subprocess.run(
            ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", self.env["RABBITMQ_NODENAME"], *args],
            env={**os.environ, **self.env},
            capture_output=True,
            check=True,
            timeout=120,
        )

    def restart(self) -> None:
        """Stop and start the broker (the Erlang node stays): every connection is
        dropped, durable queues come back with their persistent messages."""
        self.ctl("stop_app")
        self.ctl("start_app")
        self.ctl("await_startup")
        self.seed()

    def seed(self) -> None:
        api = self.api
        _rabbit_api(
            api,
            "PUT",
            "/api/users/osops",
            {"password": RABBIT_USER["password"], "tags": "monitoring"},
        )
        _rabbit_api(
            api, "PUT", "/api/permissions/%2F/osops", {"configure": "", "write": "", "read": ".*"}
        )
        _rabbit_api(api, "PUT", "/api/queues/%2F/work", {"durable": False})
        if _rabbit_api(api, "GET", "/api/queues/%2F/work").get("messages_ready") == 3:
            return
        for n in range(3):
            _rabbit_api(
                api,
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
            lambda: _rabbit_api(api, "GET", "/api/queues/%2F/work").get("messages_ready") == 3,
            30,
            "rabbitmq queue statistics",
        )


@pytest.fixture(scope="session")
def rabbitmq_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """RabbitMQ with the management plugin, all listeners on 127.0.0.1 (see RabbitNode)."""
    where = tmp_path_factory.mktemp("rabbitmq")
    amqp, api, dist, epmd = free_port(), free_port(), free_port(), free_port()
    (where / "enabled_plugins").write_text("[rabbitmq_management].\n")
    (where / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{amqp}\n"
        f"management.tcp.port = {api}\nmanagement.tcp.ip = 127.0.0.1\n"
        "collect_statistics_interval = 1000\nmanagement.rates_mode = none\n"
    )
    env = {
        "HOME": str(where),
        "RABBITMQ_NODENAME": "rabbit@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(amqp),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_EPMD_PORT": str(epmd),
        "RABBITMQ_MNESIA_BASE": str(where / "mnesia"),
        "RABBITMQ_LOG_BASE": str(where / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(where / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(where / "rabbitmq"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    argv = ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
    try:
        with daemon(argv, api, where / "rabbitmq.log", env=env):
            node = RabbitNode(where, amqp, api, env)
            node.seed()
            yield node
    finally:
        # epmd outlives the node it served; stop the one this fixture started.
        subprocess.run(
            ["epmd", "-port", str(epmd), "-kill"], capture_output=True, timeout=10, check=False
        )


@pytest.fixture(scope="session")
def rabbitmq(rabbitmq_node: RabbitNode) -> dict[str, Any]:
    """The suite's RabbitMQ: its management URL and the monitoring user's credentials."""
    return {"url": f"http://127.0.0.1:{rabbitmq_node.api}", **RABBIT_USER}


KEYSTONE_ADMIN = {"username": "admin", "password": "Adm1n-Pw", "project_name": "admin"}
KEYSTONE_VENV = Path(__file__).resolve().parent.parent / ".work" / "keystone-venv" / "bin"


def _keystone_request(url: str, method: str, path: str, token: str, body: Any) -> Any:
    import requests

    response = requests.request(
        method, f"{url}{path}", json=body, timeout=30, headers={"X-Auth-Token": token}
    )
    response.raise_for_status()
    return response.json()


def _admin_token(url: str) -> str:
    import requests

    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": KEYSTONE_ADMIN["username"],
                        "domain": {"id": "default"},
                        "password": KEYSTONE_ADMIN["password"],
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    response = requests.post(f"{url}/v3/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return str(response.headers["X-Subject-Token"])


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Keystone from PyPI (sqlite, fernet) served by gunicorn, with nova, neutron and
    cinder registered in its catalog at the fake OpenStack server.

    Yields the Keystone URL, the fake server, and OS_CLIENT_CONFIG_FILE env with
    clouds: ``test`` (admin), ``wrong`` (bad password), ``down`` (nothing listening),
    ``tls`` (https to a plain-http Keystone).
    """
    import fake_openstack

    where = tmp_path_factory.mktemp("keystone")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    conf = where / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\nuse_stderr = true\n"
        # bcrypt's fewest rounds: each check authenticates, and a busy test
        # host must not spend a check's timeout hashing the password.
        "[identity]\npassword_hash_rounds = 4\n"
        f"[database]\nconnection = sqlite:///{where}/keystone.db\n"
        "[token]\nprovider = fernet\n"
        f"[fernet_tokens]\nkey_repository = {where}/fernet-keys\n"
        f"[fernet_receipts]\nkey_repository = {where}/fernet-keys\n"
        f"[credential]\nkey_repository = {where}/credential-keys\n"
    )
    manage = [str(KEYSTONE_VENV / "keystone-manage"), "--config-file", str(conf)]
    for step in (
        ["db_sync"],
        ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
        ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
        [
            "bootstrap",
            "--bootstrap-password",
            KEYSTONE_ADMIN["password"],
            "--bootstrap-admin-url",
            f"{url}/v3",
            "--bootstrap-public-url",
            f"{url}/v3",
            "--bootstrap-internal-url",
            f"{url}/v3",
            "--bootstrap-region-id",
            "RegionOne",
        ],
    ):
        subprocess.run([*manage, *step], check=True, capture_output=True, timeout=300)
    wsgi_dir = Path(__file__).resolve().parent / "fixtures" / "keystone"
    argv = [
        str(KEYSTONE_VENV / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--chdir",
        str(wsgi_dir),
        "keystone_wsgi:application",
    ]
    with daemon(argv, port, where / "keystone.log", env={"OS_KEYSTONE_CONFIG_FILES": str(conf)}):
        fake = fake_openstack.start(url)
        try:
            token = _admin_token(url)
            for name, kind, path in (
                ("nova", "compute", "/compute/v2.1"),
                ("neutron", "network", "/network"),
                ("cinder", "volumev3", "/volumev3/v3/%(project_id)s"),
            ):
                service = _keystone_request(
                    url, "POST", "/v3/services", token, {"service": {"name": name, "type": kind}}
                )["service"]
                for interface in ("public", "internal", "admin"):
                    _keystone_request(
                        url,
                        "POST",
                        "/v3/endpoints",
                        token,
                        {
                            "endpoint": {
                                "service_id": service["id"],
                                "interface": interface,
                                "url": fake.url + path,
                                "region_id": "RegionOne",
                            }
                        },
                    )
            clouds = where / "clouds.yaml"
            auth = (
                "      user_domain_name: Default\n      project_domain_name: Default\n"
                "      project_name: admin\n      username: admin\n"
            )
            clouds.write_text(
                "clouds:\n"
                f"  test:\n    region_name: RegionOne\n    auth:\n      auth_url: {url}/v3\n{auth}"
                f"      password: {KEYSTONE_ADMIN['password']}\n"
                f"  wrong:\n    auth:\n      auth_url: {url}/v3\n{auth}      password: Wr0ng-Ks-Pw\n"
                f"  down:\n    auth:\n      auth_url: http://127.0.0.1:{free_port()}/v3\n{auth}"
                f"      password: {KEYSTONE_ADMIN['password']}\n"
                f"  tls:\n    auth:\n      auth_url: https://127.0.0.1:{port}/v3\n{auth}"
                f"      password: {KEYSTONE_ADMIN['password']}\n"
            )
            yield {
                "url": url,
                "config": str(conf),
                "fake": fake,
                "env": {"OS_CLIENT_CONFIG_FILE": str(clouds)},
                "password": KEYSTONE_ADMIN["password"],
            }
        finally:
            fake_openstack.stop(fake)


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
