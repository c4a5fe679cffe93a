"""The ECS names the parse state machine writes, as constants of its compiled modules.

:mod:`osops_logging.lines`, :mod:`~osops_logging.contexts` and
:mod:`~osops_logging.complete` (compiled by mypyc) take them from here.
"""

from __future__ import annotations

from typing import Final

from osops.log.record import FIELDS

# The ECS names the parser writes (osops.log.record.FIELDS), and its working
# keys, which are no fields: every line of the record and the offset just past
# its last line. Final, so that compiled they are C constants, not lookups in
# the module.
TIMESTAMP: Final = FIELDS["timestamp"]
LEVEL: Final = FIELDS["level"]
LOGGER: Final = FIELDS["logger"]
PID: Final = FIELDS["pid"]
MESSAGE: Final = FIELDS["message"]
HOST: Final = FIELDS["host"]
FILE: Final = FIELDS["file"]
OFFSET: Final = FIELDS["offset"]
LINE: Final = FIELDS["line"]
FUNCTION: Final = FIELDS["function"]
ORIGIN: Final = FIELDS["origin"]
FORMAT: Final = FIELDS["format"]
ERROR_TYPE: Final = FIELDS["error_type"]
ERROR_MESSAGE: Final = FIELDS["error_message"]
STACK_TRACE: Final = FIELDS["stack_trace"]
INSTANCE_UUID: Final = FIELDS["instance_uuid"]
LABELS: Final = "labels"
RAW: Final = "raw"
END: Final = "end"
# An access line's fields, set one by one (no tuple zipped into the dict).
CLIENT_IP: Final = FIELDS["client_ip"]
METHOD: Final = FIELDS["http_method"]
PATH: Final = FIELDS["url_path"]
STATUS: Final = FIELDS["http_status"]
BYTES: Final = FIELDS["http_bytes"]
DURATION: Final = FIELDS["duration_ns"]
REQUEST_ID: Final = FIELDS["request_id"]
GLOBAL_REQUEST_ID: Final = FIELDS["global_request_id"]
