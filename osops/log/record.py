"""The log record: one event from an OpenStack log, with ECS-named serialization."""

from __future__ import annotations

from typing import Any

# Attribute -> Elastic Common Schema field (or openstack.* where ECS has none).
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
_ECS_KEYS = {**FIELDS, "labels": "labels"}
_SETTABLE = frozenset(FIELDS) | {"raw", "parsed", "end"}


class LogRecord:
    """One log event: the raw text it came from and the fields parsed out of it.

    ``raw`` holds every physical line of the event (tracebacks and
    continuation lines included), so nothing read is ever lost; ``parsed`` is
    False when no parser understood it. Unset fields read as their class
    default (None); only the fields a record has are stored, which keeps the
    parser's inner loop cheap (a record is made per line).
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
    tags: tuple[str, ...] | list[str] = ()
    labels: dict[str, str] | None = None
    #: Byte offset just past the record's last line: where shipping resumes.
    end: int = 0

    def __init__(
        self, raw: str, file: str = "", offset: int = 0, line: int = 0, **fields: Any
    ) -> None:
        self.raw = raw
        self.file = file
        self.offset = offset
        self.line = line
        self.end = offset
        for name, value in fields.items():
            if name not in _SETTABLE:
                raise TypeError(f"LogRecord has no field {name!r}")
            setattr(self, name, value)

    def add_tag(self, tag: str) -> None:
        """Tag the record (ECS ``tags``), once."""
        if tag not in self.tags:
            self.tags = [*self.tags, tag]

    def set_label(self, key: str, value: str) -> None:
        """Set one ECS ``labels`` entry."""
        self.labels = {**(self.labels or {}), key: value}

    def identity(self) -> str:
        """A stable id from file, offset and content: the same line shipped twice
        is the same document, and new content at a reused offset (after
        copytruncate) is not."""
        import hashlib

        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{self.file}\0{self.offset}\0{self.raw}".encode(errors="replace"))
        return digest.hexdigest()

    @property
    def duration(self) -> float | None:
        """``event.duration`` in seconds."""
        return None if self.duration_ns is None else self.duration_ns / 1e9

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LogRecord) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"LogRecord({fields})"

    def to_dict(self) -> dict[str, Any]:
        """Flat ECS field names to values; unset and empty fields are left out."""
        return ecs(vars(self))


def ecs(fields: dict[str, Any]) -> dict[str, Any]:
    """A record's attribute dict (``vars(record)``) as flat ECS field names to values.

    Unset and empty fields are left out; an unparsed record's message is its
    raw text, tagged ``unparsed``.
    """
    get = _ECS_KEYS.get
    out: dict[Any, Any] = {get(attr): value for attr, value in fields.items()}
    out.pop(None, None)  # attributes with no ECS name: raw, parsed, end, tags
    values = out.values()
    if None in values or "" in values:  # rare: checked at C speed first
        out = {key: value for key, value in out.items() if value is not None and value != ""}
    tags = fields.get("tags") or ()
    if not fields.get("parsed"):
        out["message"] = fields["raw"]
        out["tags"] = [*tags, "unparsed"] if "unparsed" not in tags else list(tags)
    elif tags:
        out["tags"] = list(tags)
    labels = fields.get("labels")
    if labels:
        out["labels"] = dict(labels)  # a copy, where the record set it
    else:
        out.pop("labels", None)
    return out
