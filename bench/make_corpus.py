"""Write a realistic OpenStack log corpus with oslo.log's own formatter, deterministically.

The bundled real logs (contrib/logging/samples) are one Kilo controller's
7.9k lines; repeated to a benchmark's size they hold 248 request contexts
and almost no access lines. Real logs do not repeat: nearly every request
has an id of its own, and half of an API service's lines are wsgi access
lines. This script writes such logs, a controller's and a compute node's
files, each through ``oslo_log.formatters.ContextFormatter`` configured as
one release configured it (the formats are oslo.log's options):

- the request context of every release: Kilo to Ocata's six tokens
  (``[req-<uuid> user project domain user_domain project_domain]``, tracebacks
  as ``TRACE`` lines), Pike to Queens' seven (the global request id first)
  and Rocky on's eight (system scope; tracebacks repeat the prefix at ERROR);
- a new request id per API call (1 to 3 lines each), the services behind the
  API logging their own ids under the API's global one;
- about half access lines on API services, in each service's wsgi format
  (eventlet/oslo.service, nova's requestlog with microversions, glance's
  Apache-like one, behind haproxy with X-Forwarded-For);
- DEBUG lines with oslo.log's function and path suffix on the services
  running with ``debug = True``, INFO, WARNING, ERROR and tracebacks from real
  raised exceptions (source lines included), ``[instance: <uuid>]``, secrets
  that redaction must mask, and a few multi-line messages.

The same ``--seed`` and ``--lines`` write the same bytes (times are UTC, from
a fixed start, at ``--rate`` lines a second across the files).

    .venv/bin/python bench/make_corpus.py --out DIR [--lines 300000] [--seed 1]
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import itertools
import linecache
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import formatters
from oslo_log import log as oslo_log

START = float(calendar.timegm((2026, 11, 25, 2, 10, 0)))  # UTC

# Each release's oslo.log formats (logging_* options); what differs is the context.
RELEASES: dict[str, dict[str, str]] = {
    "kilo": {
        "logging_context_format_string": "%(asctime)s.%(msecs)03d %(process)d %(levelname)s "
        "%(name)s [%(request_id)s %(user_identity)s] %(instance)s%(message)s",
        "logging_user_identity_format": "%(user)s %(project)s %(domain)s %(user_domain)s "
        "%(project_domain)s",
        "logging_exception_prefix": "%(asctime)s.%(msecs)03d %(process)d TRACE %(name)s "
        "%(instance)s",
    },
    "pike": {
        "logging_context_format_string": "%(asctime)s.%(msecs)03d %(process)d %(levelname)s "
        "%(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] "
        "%(instance)s%(message)s",
        "logging_user_identity_format": "%(user)s %(project)s %(domain)s %(user_domain)s "
        "%(project_domain)s",
    },
    "current": {},  # oslo.log's defaults today: eight tokens
}


@dataclass
class Service:
    """One log file: a service of one release, its share of the lines and what it says."""

    file: str
    release: str
    share: float
    debug: bool
    loggers: list[str]
    access: Callable[[random.Random, float], str] | None = None  # an API's access line
    access_logger: str = ""
    pid: int = 0
    formatter: Any = None
    fh: Any = None
    lines: int = 0
    workers: list[int] = field(default_factory=list)


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _req(rng: random.Random) -> str:
    return f"req-{_uuid(rng)}"


_CLIENTS = [f"10.0.{a}.{b}" for a in (1, 2, 7) for b in (11, 23, 42, 57, 101)]


def _client(rng: random.Random) -> str:
    # Behind haproxy, eventlet writes the X-Forwarded-For address, then the proxy's.
    client = rng.choice(_CLIENTS)
    return f"{client},10.0.0.2" if rng.random() < 0.3 else client


def _status(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.004:
        return rng.choice((500, 502, 503))
    if roll < 0.03:
        return rng.choice((400, 401, 403, 404, 404, 409))
    return rng.choice((200, 200, 200, 201, 202, 204))


def _duration(rng: random.Random) -> float:
    return min(rng.lognormvariate(-2.5, 1.2), 120.0)


_NOVA_PATHS = (
    "/v2.1/servers/detail",
    "/v2.1/servers/{uuid}",
    "/v2.1/servers/{uuid}/action",
    "/v2.1/servers/{uuid}/os-interface",
    "/v2.1/flavors/detail",
    "/v2.1/os-hypervisors/detail",
    "/v2.1/os-server-external-events",
    "/v2.1/os-keypairs",
    "/v2.1/limits",
)
_METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE")


def _path(rng: random.Random, paths: tuple[str, ...]) -> str:
    return rng.choice(paths).replace("{uuid}", _uuid(rng)).replace("{hex}", _hex(rng))


def nova_wsgi(rng: random.Random, clock: float) -> str:
    path = _path(rng, _NOVA_PATHS)
    return (
        f'{_client(rng)} "{rng.choice(_METHODS)} {path} HTTP/1.1" status: {_status(rng)} '
        f"len: {rng.randint(0, 40000)} time: {_duration(rng):.7f}"
    )


def nova_requestlog(rng: random.Random, clock: float) -> str:
    path = "/compute" + _path(rng, _NOVA_PATHS)
    micro = rng.choice(("2.1", "2.53", "2.79", "2.90", "-"))
    return (
        f'{rng.choice(_CLIENTS)} "{rng.choice(_METHODS)} {path}" status: {_status(rng)} '
        f"len: {rng.randint(0, 40000)} microversion: {micro} time: {_duration(rng):.6f}"
    )


def oslo_service_wsgi(paths: tuple[str, ...]) -> Callable[[random.Random, float], str]:
    """oslo.service's wsgi_log_format (neutron, cinder): two spaces before len."""

    def line(rng: random.Random, clock: float) -> str:
        return (
            f'{_client(rng)} "{rng.choice(_METHODS)} {_path(rng, paths)} HTTP/1.1" '
            f"status: {_status(rng)}  len: {rng.randint(0, 40000)} time: {_duration(rng):.7f}"
        )

    return line


def glance_wsgi(rng: random.Random, clock: float) -> str:
    """glance's own eventlet format, Apache-like: no "status:" to find."""
    when = time.strftime("%d/%b/%Y %H:%M:%S", time.gmtime(clock))
    return (
        f'{rng.choice(_CLIENTS)} - - [{when}] "GET /v2/images/{_uuid(rng)} HTTP/1.1" '
        f"{_status(rng)} {rng.randint(0, 9000)} {_duration(rng):.6f}"
    )


_NEUTRON_PATHS = (
    "/v2.0/ports?device_id={uuid}",
    "/v2.0/ports/{uuid}",
    "/v2.0/networks?tenant_id={hex}",
    "/v2.0/security-groups?tenant_id={hex}",
    "/v2.0/floatingips?fixed_ip_address=10.1.0.9",
    "/v2.0/subnets/{uuid}",
)
_CINDER_PATHS = (
    "/v3/{hex}/volumes/detail",
    "/v3/{hex}/volumes/{uuid}",
    "/v3/{hex}/volumes/{uuid}/action",
    "/v3/{hex}/attachments",
)

# What services say, by level; {u} is a uuid, {h} a hex id, {n} a number, {ip} an
# address, {m} half a MAC.
INFO = (
    "Took {f} seconds to build instance.",
    "Claim successful on node cmp-{n}",
    "Successfully plugged vif VIFOpenVSwitch(active=False,address=fa:16:3e:{m},"
    "has_traffic_filtering=True,id={u},network=Network({u}),port_profile=VIFPortProfileOpenVSwitch)",
    "Creating image(s)",
    "Instance spawned successfully.",
    "Attaching volume {u} to /dev/vdb",
    "Deleting instance files /var/lib/nova/instances/{u}_del",
    "Port {u} updated. Details: {{'device': '{u}', 'network_id': '{u}', 'admin_state_up': True}}",
    "Volume {u}: being created as raw with specification: {{'status': 'creating', 'size': {n}}}",
    "Updated the fixed ip {ip} of port {u}",
    "Compute_service record updated for cmp-{n}:cmp-{n}.example.org",
    "Migrating instance to cmp-{n} finished successfully.",
)
DEBUG = (
    'Lock "compute_resources" acquired by "nova.compute.resource_tracker.ResourceTracker.'
    '_update_available_resource" :: waited 0.000s',
    'Lock "compute_resources" "released" by "nova.compute.resource_tracker.ResourceTracker.'
    '_update_available_resource" :: held {f}s',
    'Acquiring lock "refresh_cache-{u}"',
    "Running periodic task ComputeManager._poll_rebooting_instances",
    "Received event network-vif-plugged-{u} for instance with vm_state building",
    'Identity response: {{"token": {{"methods": ["password"], "expires_at": '
    '"2026-11-25T03:10:00Z"}}}}',
    'REQ: curl -g -i -X GET http://ctl-1:9696/v2.0/ports?device_id={u} -H "Accept: '
    'application/json" -H "X-Auth-Token: {{SHA256}}{h}{h}"',
    "Converted {u} to {{'id': '{u}', 'status': 'ACTIVE', 'size': {n}}}",
    "Plugin 'ml2' update_port called for port {u}",
    "Checking state _get_power_state /usr/lib/python3/dist-packages/nova/compute/manager.py",
    "CPU freq info not available, skipping",
    "Inventory has not changed for provider {u} based on inventory data: "
    "{{'VCPU': {{'total': 64, 'reserved': 0, 'allocation_ratio': 4.0}}}}",
)
WARNING = (
    "Timed out waiting for network-vif-plugged-{u} for instance; continuing",
    'Option "auth_strategy" from group "api" is deprecated for removal. Its value may be '
    "silently ignored in the future.",
    "While synchronizing instance power states, found {n} instances in the database and "
    "{n} instances on the hypervisor.",
    "Unable to find authentication plugin for the transport_url rabbit://nova:S3cr3t-{h}@ctl-1"
    ":5672/, retrying",
    "Instance {u} has been moved to another host cmp-{n}. There are allocations remaining",
)
ERROR = (
    "Failed to allocate network(s)",
    "Error from libvirt during destroy. Code=38 Error=Failed to terminate process {n}",
    "Periodic task failed: update of the resource provider {u} returned 409",
    "Unexpected exception in API method",
)


def _fill(rng: random.Random, text: str) -> str:
    while "{" in text:
        before = text
        text = text.replace("{u}", _uuid(rng), 1).replace("{h}", _hex(rng)[:16], 1)
        text = text.replace("{n}", str(rng.randint(1, 4096)), 1)
        text = text.replace("{m}", ":".join(f"{rng.randrange(256):02x}" for _ in range(3)), 1)
        text = text.replace("{f}", f"{rng.random() * 30:.2f}", 1)
        text = text.replace("{ip}", f"10.1.{rng.randint(0, 255)}.{rng.randint(2, 254)}", 1)
        if text == before:
            break
    return text.replace("{{", "{").replace("}}", "}")


# Tracebacks raised through code "in" OpenStack's modules: compiled with their
# paths and registered with linecache, so traceback lines carry source lines.
_STACKS = {
    "/usr/lib/python3/dist-packages/nova/compute/manager.py": (
        "import sys\n"
        "def run_instance(depth, fail):\n"
        "    try:\n"
        "        return build_instances(depth, fail)\n"
        "    except Exception:\n"
        "        return sys.exc_info()\n"
    ),
    "/usr/lib/python3/dist-packages/nova/conductor/manager.py": (
        "def build_instances(depth, fail):\n"
        "    return schedule_and_build(depth, fail)\n"
        "def schedule_and_build(depth, fail):\n"
        "    return call(depth, fail)\n"
    ),
    "/usr/lib/python3/dist-packages/oslo_messaging/rpc/client.py": (
        "def call(depth, fail):\n"
        "    result = send(depth, fail)\n"
        "    return result\n"
        "def send(depth, fail):\n"
        "    return wait(depth, fail)\n"
    ),
    "/usr/lib/python3/dist-packages/oslo_messaging/_drivers/amqpdriver.py": (
        "def wait(depth, fail):\n"
        "    if depth > 0:\n"
        "        return wait(depth - 1, fail)\n"
        "    message = fail()\n"
        "    return message\n"
    ),
}
_EXCEPTIONS = (
    (
        "oslo_messaging.exceptions",
        "MessagingTimeout",
        "Timed out waiting for a reply to message ID {h}",
    ),
    (
        "nova.exception",
        "PortBindingFailed",
        "Binding failed for port {u}, please check neutron logs for more information.",
    ),
    (
        "sqlalchemy.exc",
        "OperationalError",
        "(pymysql.err.OperationalError) (2013, 'Lost connection to MySQL server during query')",
    ),
    (
        "keystoneauth1.exceptions.http",
        "Unauthorized",
        "The request you have made requires authentication. (HTTP 401) (Request-ID: req-{u})",
    ),
)


def _build_stack() -> Callable[[int, Callable[[], Any]], Any]:
    """The outermost function of the fake stack: it returns the exc_info of what it raised."""
    namespace: dict[str, Any] = {}
    for path, source in _STACKS.items():
        lines = source.splitlines(keepends=True)
        linecache.cache[path] = (len(source), None, lines, path)
        exec(compile(source, path, "exec"), namespace)
    return namespace["run_instance"]  # type: ignore[no-any-return]


def _exc_info(rng: random.Random, stack: Callable[..., Any]) -> Any:
    module, name, text = rng.choice(_EXCEPTIONS)
    error = type(name, (Exception,), {"__module__": module})(_fill(rng, text))

    def fail() -> Any:
        raise error

    return stack(rng.randint(0, 6), fail)


def services() -> list[Service]:
    """A controller's API and worker services and a compute node, of different releases."""
    return [
        Service(
            "nova-api.log",
            "current",
            0.20,
            False,
            ["nova.api.openstack.compute.servers", "nova.compute.api", "nova.api.openstack"],
            nova_requestlog,
            "nova.api.openstack.requestlog",
        ),
        Service(
            "neutron-server.log",
            "pike",
            0.16,
            False,
            [
                "neutron.plugins.ml2.plugin",
                "neutron.db.provisioning_blocks",
                "neutron.api.v2.resource",
            ],
            oslo_service_wsgi(_NEUTRON_PATHS),
            "neutron.wsgi",
        ),
        Service(
            "cinder-api.log",
            "kilo",
            0.07,
            False,
            ["cinder.api.openstack.wsgi", "cinder.volume.api", "cinder.api.v2.volumes"],
            oslo_service_wsgi(_CINDER_PATHS),
            "eventlet.wsgi.server",
        ),
        Service(
            "glance-api.log",
            "current",
            0.06,
            False,
            ["glance.api.v2.images", "glance.registry.client.v1.client"],
            glance_wsgi,
            "eventlet.wsgi.server",
        ),
        Service(
            "nova-api-kilo.log",
            "kilo",
            0.06,
            False,
            ["nova.api.openstack.compute.servers", "nova.compute.api"],
            nova_wsgi,
            "nova.osapi_compute.wsgi.server",
        ),
        Service(
            "nova-conductor.log",
            "current",
            0.14,
            True,
            [
                "nova.conductor.manager",
                "oslo_messaging._drivers.amqpdriver",
                "nova.scheduler.client.report",
            ],
        ),
        Service(
            "nova-scheduler.log",
            "pike",
            0.07,
            True,
            ["nova.scheduler.host_manager", "nova.scheduler.filter_scheduler"],
        ),
        Service(
            "nova-compute.log",
            "current",
            0.16,
            True,
            [
                "nova.compute.manager",
                "nova.virt.libvirt.driver",
                "nova.compute.resource_tracker",
                "oslo_concurrency.lockutils",
            ],
        ),
        Service(
            "neutron-openvswitch-agent.log",
            "kilo",
            0.08,
            True,
            [
                "neutron.plugins.ml2.drivers.openvswitch.agent.ovs_neutron_agent",
                "neutron.agent.linux.utils",
            ],
        ),
    ]


def _formatter(release: str) -> formatters.ContextFormatter:
    conf = cfg.ConfigOpts()
    oslo_log.register_options(conf)
    conf([], project="osops-corpus")
    for option, value in RELEASES[release].items():
        conf.set_override(option, value)
    return formatters.ContextFormatter(
        config=conf, project="osops-corpus", version="1", datefmt=conf.log_date_format
    )


class Writer:
    """Records for every service, in time order, through each one's oslo.log formatter."""

    def __init__(self, out: Path, seed: int, rate: float) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.clock = START
        self.services = services()
        self.weights = list(itertools.accumulate(s.share for s in self.services))
        self.users = [(_hex(self.rng), _hex(self.rng)) for _ in range(40)]
        self.recent: list[str] = [_req(self.rng)]  # API request ids: later global ids
        self.stack = _build_stack()
        for number, service in enumerate(self.services):
            service.formatter = _formatter(service.release)
            service.pid = 1000 + 731 * number
            service.workers = [service.pid + k for k in range(1, 5)]
            service.fh = open(out / service.file, "w", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        for service in self.services:
            service.fh.close()

    @property
    def lines(self) -> int:
        return sum(service.lines for service in self.services)

    def _context(self, global_id: str | None) -> oslo_context.RequestContext:
        user, project = self.rng.choice(self.users)
        return oslo_context.RequestContext(
            user_id=user,
            project_id=project,
            user_domain_id="default",
            project_domain_id="default",
            request_id=_req(self.rng),
            global_request_id=global_id,
        )

    def emit(
        self,
        service: Service,
        level: int,
        logger: str,
        message: str,
        ctx: oslo_context.RequestContext | None,
        instance: str | None = None,
        exc_info: Any = None,
    ) -> None:
        self.clock += self.rng.expovariate(self.rate)
        record = logging.LogRecord(logger, level, __file__, 0, message, None, exc_info)
        record.created = self.clock
        record.msecs = (self.clock - int(self.clock)) * 1000
        record.process = self.rng.choice(service.workers)
        record.funcName = self.rng.choice(("_heal_instance_info_cache", "inner", "wait", "call"))
        record.pathname = "/usr/lib/python3/dist-packages/" + logger.replace(".", "/") + ".py"
        record.lineno = self.rng.randint(40, 3000)
        if ctx is not None:
            record.context = ctx
        if instance is not None:
            record.instance = {"uuid": instance}
        text = service.formatter.format(record)
        service.fh.write(text + "\n")
        service.lines += text.count("\n") + 1

    def event(self) -> None:
        """One API call and what it logs, or one thing a worker service logs."""
        rng = self.rng
        at = bisect.bisect_left(self.weights, rng.random() * self.weights[-1])
        service = self.services[min(at, len(self.services) - 1)]
        logger = rng.choice(service.loggers)
        if service.access is not None:
            ctx = self._context(None)
            self.recent = [*self.recent[-63:], ctx.request_id]
            for _ in range(rng.choice((0, 1, 1, 1, 2))):
                self._message(service, logger, ctx)
            access = service.access(rng, self.clock)
            self.emit(service, logging.INFO, service.access_logger, access, ctx)
            return
        # Behind the API: a request of its own under the API's global id, or a
        # periodic task with no request at all.
        ctx = None if rng.random() < 0.15 else self._context(rng.choice(self.recent))
        for _ in range(rng.choice((1, 1, 2, 3))):
            self._message(service, logger, ctx)

    def _message(
        self, service: Service, logger: str, ctx: oslo_context.RequestContext | None
    ) -> None:
        rng = self.rng
        instance = _uuid(rng) if rng.random() < 0.2 else None
        roll = rng.random()
        if roll < 0.004:
            text = _fill(rng, rng.choice(ERROR))
            self.emit(
                service, logging.ERROR, logger, text, ctx, instance, _exc_info(rng, self.stack)
            )
        elif roll < 0.008:
            self.emit(service, logging.ERROR, logger, _fill(rng, rng.choice(ERROR)), ctx, instance)
        elif roll < 0.04:
            self.emit(
                service, logging.WARNING, logger, _fill(rng, rng.choice(WARNING)), ctx, instance
            )
        elif roll < 0.042:
            # A multi-line message: its continuation lines carry no prefix.
            body = "\n".join(f"  {_fill(rng, '{u}')}: ACTIVE" for _ in range(rng.randint(2, 5)))
            self.emit(service, logging.INFO, logger, "Instances on this host:\n" + body, ctx)
        elif service.debug and roll < 0.5:
            self.emit(service, logging.DEBUG, logger, _fill(rng, rng.choice(DEBUG)), ctx, instance)
        else:
            self.emit(service, logging.INFO, logger, _fill(rng, rng.choice(INFO)), ctx, instance)


def write(out: Path, lines: int, seed: int = 1, rate: float = 200.0) -> list[Path]:
    """Write the corpus (at least ``lines`` lines) into ``out``; its files."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(out, seed, rate)
    try:
        while writer.lines < lines:
            writer.event()
    finally:
        writer.close()
    return [out / service.file for service in writer.services]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0, help="lines a second, all files")
    args = parser.parse_args()
    paths = write(args.out, args.lines, args.seed, args.rate)
    for path in paths:
        with open(path, "rb") as fh:
            count = sum(1 for _ in fh)
        print(f"{count:9d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
