"""rsyslog from Debian receiving on 127.0.0.1 (TCP and UDP), as a fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import daemon

from osops.testing import free_port


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
