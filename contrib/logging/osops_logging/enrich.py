"""The enrich filter: service and host names from the log file's path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from osops.exceptions import UsageError
from osops.log.base import Filter
from osops.log.record import LogRecord
from osops.options import Argument

# "<host>.<service>.log", "<service>.log", "/var/log/<project>/<service>.log[.1][.gz]"
DEFAULT_PATTERN = (
    r"(?:^|/)(?:(?P<host>[A-Za-z0-9][A-Za-z0-9-]*(?:-[A-Za-z0-9]+)*)\.)?"
    r"(?P<service>[a-z][a-z0-9_-]*)\.log(?:\.\d+)?(?:\.gz)?$"
)
# File names that say little without their directory: /var/log/neutron/server.log
_GENERIC = frozenset({"api", "server", "agent", "scheduler", "worker", "manager", "main"})


class Enrich(Filter):
    """Set service.name and host.name from the file path, unless the line named them."""

    arguments = (
        Argument("service", "Service name for every record, instead of the one in the path."),
        Argument("host", "Host name for every record, instead of the one in the path."),
        Argument(
            "pattern",
            "Regular expression with named groups 'service' and 'host', "
            "searched in the file path.",
            default=DEFAULT_PATTERN,
        ),
    )
    on_error = "keep"
    default_order = 20  # after parse: it reads the fields parse found

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        try:
            self._pattern = re.compile(options.get("pattern") or DEFAULT_PATTERN)
        except re.error as exc:
            raise UsageError(f"filter 'enrich': option pattern is not a regex: {exc}") from None
        self._by_path: dict[str, tuple[str | None, str | None]] = {}

    def process(self, record: LogRecord) -> LogRecord:
        names = self._by_path.get(record.file)
        if names is None:
            names = self._by_path[record.file] = self.names(record.file)
        service, host = names
        if service and not record.service:
            record.service = service
        if host and not record.host:
            record.host = host
        return record

    def names(self, path: str) -> tuple[str | None, str | None]:
        """The service and host names for one file."""
        service = self.options.get("service")
        host = self.options.get("host")
        match = self._pattern.search(path)
        if match is not None:
            groups = match.groupdict()
            found = groups.get("service")
            if found in _GENERIC:
                project = os.path.basename(os.path.dirname(path))
                found = f"{project}-{found}" if project and project != "log" else found
            service = service or found
            host = host or groups.get("host")
        return service, host
