"""RabbitMQ from Debian with the management plugin on 127.0.0.1, and its session fixtures."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from servers import daemon, wait_until

from osops.testing import free_port


@dataclass
class Node:
    """A running node: its management API and AMQP port (user guest, from loopback)."""

    api: str
    amqp: int
    #: rabbitmqctl's environment (node name, epmd port, the cookie's home).
    env: dict[str, str] = field(default_factory=dict)
    #: Called after :meth:`restart`, to put back what the broker dropped.
    on_restart: list[Callable[[], None]] = field(default_factory=list)

    def ctl(self, *args: str) -> None:
        subprocess.run(
            ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", self.env["RABBITMQ_NODENAME"], *args],
            env={**os.environ, **self.env},
            capture_output=True,
            check=True,
            timeout=120,
        )

    def restart(self) -> None:
        """Stop and start the broker (the Erlang node stays up): every connection is
        dropped; durable queues come back with their persistent messages, transient
        ones do not (``on_restart`` puts back what the suite counts on)."""
        self.ctl("stop_app")
        self.ctl("start_app")
        self.ctl("await_startup")
        for again in self.on_restart:
            again()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        import requests

        response = requests.request(
            method, self.api + path, json=body, auth=("guest", "guest"), timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else None


@contextlib.contextmanager
def running(where: Path) -> Iterator[Node]:
    """Start a node in ``where`` and stop it (and the epmd it started) afterwards."""
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
            yield Node(f"http://127.0.0.1:{api}", amqp, env)
    finally:
        # epmd outlives the node it served; stop the one this node started.
        subprocess.run(
            ["epmd", "-port", str(epmd), "-kill"], capture_output=True, timeout=10, check=False
        )


RABBIT_USER = {"username": "osops", "password": "Rabb1t-Pw"}


@pytest.fixture(scope="session")
def rabbitmq_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """RabbitMQ with the management plugin, all listeners on 127.0.0.1 (support.rabbitmq)."""
    with running(tmp_path_factory.mktemp("rabbitmq")) as node:
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
