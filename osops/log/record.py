"""The log record: one event from an OpenStack log, with ECS-named serialization."""

from __future__ import annotations

import dataclasses
from typing import Any

# Attribute -> Elastic Common Schema field (or openstack.* where ECS has none).
# Order is the order fields appear in serialized records.
FIELDS: dict[str, str] = {
    "timestamp": "@timestamp",
    "level": "log.level",
    "logger": "log.logger",
    "pid": "process.pid",
    "message": "message",
    "host": "host.name",
    "service": "service.name",
    "file": "log.file.path",
    "offset": "log.offset",
    "line": "log.file.line",
    "function": "log.origin.function",
    "origin": "log.origin.file.name",
    "error_type": "error.type",
    "error_message": "error.message",
    "stack_trace": "error.stack_trace",
    "http_method": "http.request.method",
    "url_path": "url.path",
    "http_status": "http.response.status_code",
    "http_bytes": "http.response.body.bytes",
    "duration_ns": "event.duration",
    "client_ip": "client.ip",
    "request_id": "openstack.request_id",
    "global_request_id": "openstack.global_request_id",
    "user_id": "openstack.user_id",
    "project_id": "openstack.project_id",
    "domain_id": "openstack.domain_id",
    "system_scope": "openstack.system_scope",
    "user_domain_id": "openstack.user_domain_id",
    "project_domain_id": "openstack.project_domain_id",
    "instance_uuid": "openstack.instance_uuid",
    "format": "openstack.log_format",
}


@dataclasses.dataclass(slots=True)
class LogRecord:
    """One log event: the raw text it came from and the fields parsed out of it.

    ``raw`` holds every physical line of the event (tracebacks and
    continuation lines included), so nothing read is ever lost; ``parsed`` is
    False when no parser understood it.
    """

    raw: str
    file: str = ""
    offset: int = 0
    line: int = 0
    parsed: bool = False
    format: str | None = None
    timestamp: str | None = None
    level: str | None = None
    logger: str | None = None
    pid: int | None = None
    message: str | None = None
    host: str | None = None
    service: str | None = None
    function: str | None = None
    origin: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    stack_trace: str | None = None
    http_method: str | None = None
    url_path: str | None = None
    http_status: int | None = None
    http_bytes: int | None = None
    duration_ns: int | None = None
    client_ip: str | None = None
    request_id: str | None = None
    global_request_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None
    user_domain_id: str | None = None
    project_domain_id: str | None = None
    instance_uuid: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    labels: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """``event.duration`` in seconds."""
        return None if self.duration_ns is None else self.duration_ns / 1e9

    def to_dict(self) -> dict[str, Any]:
        """Flat ECS field names to values; unset fields are left out."""
        out: dict[str, Any] = {}
        for attr, field in FIELDS.items():
            value = getattr(self, attr)
            if value is not None and value != "":
                out[field] = value
        tags = list(self.tags)
        if not self.parsed:
            out["message"] = self.raw
            if "unparsed" not in tags:
                tags.append("unparsed")
        if tags:
            out["tags"] = tags
        if self.labels:
            out["labels"] = dict(self.labels)
        return out
