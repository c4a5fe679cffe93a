"""Prometheus scraping node_exporter's textfile directory, on 127.0.0.1, as a session fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from servers import daemon

from osops.testing import free_port


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
