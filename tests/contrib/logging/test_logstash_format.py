"""The logstash sink's events are python-logstash's (LogstashFormatterVersion1) for the same records.

python-logstash is what a service uses to send its own log records to Logstash:
``logger.info(message, extra=fields)`` through a handler whose formatter makes
the event. A record osops parsed from a file is the same event had the service
sent it that way, with the record's fields as the extra fields: the same keys
and values, key for key. Where the formatter asks the machine rather than the
record: ``host``, which python-logstash takes from the host it runs on and
osops from the host that wrote the log (the test gives the formatter that host,
as a shipper on that host would have it), and ``@timestamp`` of a record with
no time of its own, which both take from the clock when sending.
"""

from __future__ import annotations

import datetime
import json
import logging

import pytest
from helpers import SAMPLES
from logstash.formatter import LogstashFormatterVersion1

from osops.log import pipeline
from osops_logging.logstash import event

FILES = [*sorted(SAMPLES.glob("*.log")), SAMPLES / "oslo" / "nova-compute.log"]


def formatter_event(fields: dict[str, object], record: object) -> dict[str, object]:
    """What python-logstash sends for this record logged with its fields as extra fields."""
    formatter = LogstashFormatterVersion1(message_type="osops")
    formatter.host = getattr(record, "host", None) or ""
    logged = logging.getLogger(getattr(record, "logger", None) or "").makeRecord(
        name=getattr(record, "logger", None) or "",
        level=logging.INFO,
        fn=getattr(record, "file", ""),
        lno=0,
        msg=fields.get("message", getattr(record, "raw", "")),
        args=(),
        exc_info=None,
        extra={k: v for k, v in fields.items() if k != "message"},  # the message is msg
    )
    logged.levelname = getattr(record, "level", None) or ""
    return json.loads(formatter.format(logged))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_events_equal_python_logstash_formatters(path: object) -> None:
    records = list(pipeline.build_chain(None).records(str(path)))
    assert records
    for record in records:
        fields = record.to_dict()
        ours = json.loads(json.dumps(event(record), ensure_ascii=False))
        theirs = formatter_event(fields, record)
        if "@timestamp" not in fields:
            # No time of its own: both give the time it is sent, in UTC.
            sent = [
                datetime.datetime.strptime(e.pop("@timestamp"), "%Y-%m-%dT%H:%M:%S.%fZ")
                for e in (ours, theirs)
            ]
            assert abs(sent[0] - sent[1]) < datetime.timedelta(seconds=5)
        assert ours == theirs, record.raw[:200]
