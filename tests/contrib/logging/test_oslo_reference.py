"""The parser against a reference it did not write: lines formatted by oslo.log itself.

Each test gives oslo.log's ContextFormatter log records of known attributes
(logger, level, pid, time, request context, a real exception), writes their
lines as workers sharing a file would (one after another, or interleaved line
by line), parses them and holds every record to the attributes oslo.log was
given. The expected values come from those attributes and Python's own
traceback module, never from the parser.
"""

from __future__ import annotations

import itertools
import logging
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg
from oslo_context import context
from oslo_log import formatters
from oslo_log import log as oslo_log

from osops.log import pipeline
from osops.log.record import LogRecord

# Pike to Queens (oslo.log 3.x): the global request id, no system scope.
PIKE_IDENTITY = "%(user)s %(project)s %(domain)s %(user_domain)s %(project_domain)s"
CREATED = 1714641240.125  # 2024-05-02, .125 s: milliseconds that print exactly


class RemoteError(Exception):
    """As oslo.messaging raises it: the remote traceback, a list, after the message."""

    def __init__(self, exc_type: str, value: str, remote: list[str]) -> None:
        super().__init__(f"Remote error: {exc_type} {value}\n{remote}.")


def formatter(identity: str | None = None) -> formatters.ContextFormatter:
    conf = cfg.ConfigOpts()
    oslo_log.register_options(conf)
    conf([], project="osops-tests")
    if identity is not None:
        conf.set_override("logging_user_identity_format", identity)
    return formatters.ContextFormatter(
        config=conf, project="osops-tests", version="1", datefmt=conf.log_date_format
    )


def request(n: int, **extra: Any) -> context.RequestContext:
    return context.RequestContext(
        user_id=f"user{n}",
        project_id=f"project{n}",
        user_domain_id=f"udomain{n}",
        project_domain_id=f"pdomain{n}",
        global_request_id=f"req-{n:08d}-0000-4000-8000-00000000000g",
        request_id=f"req-{n:08d}-0000-4000-8000-00000000000r",
        **extra,
    )


def event(
    logger: str,
    level: int,
    message: str,
    pid: int,
    ctx: context.RequestContext | None,
    error: BaseException | None = None,
    created: float = CREATED,
) -> logging.LogRecord:
    """A log record as a service's logger makes it, with a real traceback if ``error``."""
    record = logging.LogRecord(logger, level, "/srv/service.py", 10, message, (), None)
    record.process = pid
    record.created, record.msecs = created, (created - int(created)) * 1000
    if ctx is not None:
        record.context = ctx
    if error is not None:
        try:
            raise error
        except BaseException:
            record.exc_info = sys.exc_info()
    return record


def written(fmt: formatters.ContextFormatter, events: list[logging.LogRecord]) -> list[list[str]]:
    """Each event's lines as oslo.log writes them (a header line, then its traceback)."""
    return [fmt.format(record).split("\n") for record in events]


def interleaved(*lines: list[str]) -> Iterator[str]:
    """Line by line from each writer in turn, as two workers writing at once."""
    for group in itertools.zip_longest(*lines):
        yield from (line for line in group if line is not None)


def parse(lines: list[str] | Iterator[str], file: str = "neutron-server.log") -> list[Any]:
    chain = pipeline.build_chain(None)
    raw = [LogRecord(raw=line, file=file, line=n) for n, line in enumerate(lines, 1)]
    return [record.to_dict() for record in chain.run(raw)]


def error_type(error: BaseException) -> str:
    """How Python's traceback names the exception's type on its last line."""
    cls = type(error)
    return (
        cls.__qualname__
        if cls.__module__ == "builtins"
        else f"{cls.__module__}.{cls.__qualname__}"
    )


def expected(record: logging.LogRecord, ctx_fields: dict[str, str], line: int) -> dict[str, Any]:
    """The whole record the parser must make of one oslo.log event's lines."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
    want: dict[str, Any] = {
        "@timestamp": f"{stamp}.{int(record.msecs):03d}",
        "log.level": record.levelname,
        "log.logger": record.name,
        "process.pid": record.process,
        "log.file.path": "neutron-server.log",
        "log.file.line": line,
        "log.offset": 0,
        "openstack.log_format": "oslo",
        "service.name": "neutron-server",
        **ctx_fields,
    }
    message = record.getMessage()
    if record.exc_info:
        error = record.exc_info[1]
        assert error is not None
        summary = "".join(traceback.format_exception_only(error)).rstrip("\n")
        message = f"{message}: {summary}"
        want["error.type"] = error_type(error)
        want["error.message"] = str(error).split("\n")[0]
        want["error.stack_trace"] = "".join(traceback.format_exception(error))
    want["message"] = message
    return want


def context_fields(n: int, pike: bool = False) -> dict[str, str]:
    ctx = request(n)
    fields = {
        "openstack.global_request_id": ctx.global_request_id,
        "openstack.request_id": ctx.request_id,
        "openstack.user_id": ctx.user_id,
        "openstack.project_id": ctx.project_id,
        "openstack.user_domain_id": ctx.user_domain_id,
        "openstack.project_domain_id": ctx.project_domain_id,
    }
    return fields


def first_lines(groups: list[list[str]], order: list[str]) -> list[int]:
    """The line number (1-based) at which each group's first line lands in ``order``."""
    return [order.index(group[0]) + 1 for group in groups]


def test_two_workers_interleaving_tracebacks_make_two_whole_records() -> None:
    events = [
        event(
            "neutron.plugins.ml2",
            logging.ERROR,
            "Port bind failed",
            3301,
            request(1),
            KeyError("segment"),
        ),
        event(
            "neutron.plugins.ml2",
            logging.ERROR,
            "Network delete failed",
            3302,
            request(2),
            ValueError("network 7 is in use"),
        ),
    ]
    groups = written(formatter(), events)
    order = list(interleaved(*groups))
    got = parse(order)
    lines = first_lines(groups, order)
    assert got == [
        expected(e, context_fields(n), line)
        for n, e, line in zip((1, 2), events, lines, strict=True)
    ]


def test_same_pid_two_loggers_interleaving_stay_apart() -> None:
    events = [
        event(
            "nova.compute.manager",
            logging.ERROR,
            "Build failed",
            812,
            request(3),
            RuntimeError("no host"),
        ),
        event(
            "nova.virt.libvirt.driver",
            logging.ERROR,
            "Spawn failed",
            812,
            request(4),
            OSError("disk full"),
        ),
    ]
    groups = written(formatter(), events)
    order = list(interleaved(*groups))
    got = parse(order)
    assert got == [
        expected(e, context_fields(n), line)
        for n, e, line in zip((3, 4), events, first_lines(groups, order), strict=True)
    ]


def test_critical_with_traceback_is_one_record() -> None:
    events = [
        event(
            "cinder.cmd.volume",
            logging.CRITICAL,
            "Unhandled error",
            4410,
            request(5),
            ConnectionError("rabbit unreachable"),
        ),
        event("cinder.cmd.volume", logging.INFO, "Exiting", 4410, request(5), created=CREATED + 1),
    ]
    groups = written(formatter(), events)
    order = [line for group in groups for line in group]
    got = parse(order)
    assert got == [
        expected(e, context_fields(5), line)
        for e, line in zip(events, first_lines(groups, order), strict=True)
    ]


def test_remote_error_list_after_the_exception_line() -> None:
    remote = [
        "Traceback (most recent call last):\n",
        '  File "/usr/lib/python3/dist-packages/oslo_messaging/rpc/server.py", line 165\n',
        "AttributeError: 'NoneType' object has no attribute 'segments'\n",
    ]
    error = RemoteError("AttributeError", "'NoneType' object has no attribute 'segments'", remote)
    events = [
        event(
            "neutron.agent.l3.agent",
            logging.ERROR,
            "Failed to sync routers",
            2120,
            request(6),
            error,
        )
    ]
    groups = written(formatter(), events)
    got = parse(groups[0])
    assert got == [expected(events[0], context_fields(6), 1)]


def test_pike_context_without_system_scope() -> None:
    fmt = formatter(PIKE_IDENTITY)
    events = [event("nova.api", logging.INFO, "Listing servers", 77, request(7))]
    (line,) = written(fmt, events)[0]
    assert line.count(" ", line.index("["), line.index("]")) == 6  # seven tokens
    assert parse([line]) == [expected(events[0], context_fields(7, pike=True), 1)]


@pytest.mark.parametrize("identity", [None, PIKE_IDENTITY], ids=["today", "pike"])
def test_context_with_domain_and_system_scope_unset(identity: str | None) -> None:
    ctx = request(8, domain_id="dom8")
    if identity is None:
        ctx.system_scope = "all"
    events = [event("keystone.server", logging.WARNING, "Slow token", 90, ctx)]
    (line,) = written(formatter(identity), events)[0]
    want = {**context_fields(8), "openstack.domain_id": "dom8"}
    if identity is None:
        want["openstack.system_scope"] = "all"
    assert parse([line]) == [expected(events[0], want, 1)]
