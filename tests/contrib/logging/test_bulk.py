"""The opensearch and elasticsearch sinks against osmem-server (an OpenSearch 3 API server)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SAMPLES, run_osops
from search_proxy import proxy

pytestmark = pytest.mark.integration
NOVA_API = SAMPLES / "hp-ms-01-c29.nova-api.log"
RECORDS = 2188


def count(url: str, index: str = "osops-logs") -> int:
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[url])
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def ship(sink: str, url: str, *extra: str) -> Any:
    return run_osops(
        "log",
        "ship",
        str(NOVA_API),
        "--sink",
        sink,
        "--option",
        f"hosts={url}",
        "--format",
        "json",
        *extra,
    )


def test_opensearch_bulk_and_no_duplicates(osmem_url: str) -> None:
    proc = ship("opensearch", osmem_url)
    assert proc.returncode == 0, proc.stderr
    assert count(osmem_url) == RECORDS
    assert ship("opensearch", osmem_url).returncode == 0  # the same lines again
    assert count(osmem_url) == RECORDS
    from opensearchpy import OpenSearch

    hits = OpenSearch(hosts=[osmem_url]).search(
        index="osops-logs", body={"query": {"term": {"http.response.status_code": 500}}}
    )
    (hit,) = hits["hits"]["hits"]
    assert hit["_source"]["url.path"].endswith("/os-floating-ips")
    assert hit["_source"]["openstack.request_id"] == "req-e4f91dbb-6b8f-4240-8a23-f424f1900e54"


def test_secrets_never_reach_the_index(osmem_url: str) -> None:
    assert ship("opensearch", osmem_url, "--option", "index=secrets").returncode == 0
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[osmem_url])
    client.indices.refresh(index="secrets")
    found = client.search(
        index="secrets",
        body={"query": {"query_string": {"query": '"3dcf524a3d44496b8b3cd6b594c23f47"'}}},
    )
    assert found["hits"]["total"]["value"] == 0


def test_retries_429_and_5xx_with_backoff(osmem_url: str) -> None:
    with proxy(osmem_url, fail=[429, 503, 502]) as front:
        proc = ship("opensearch", front.url)
        assert proc.returncode == 0, proc.stderr
        bulks = [path for method, path in front.requests if path.split("?")[0].endswith("_bulk")]
        assert len(bulks) >= 4  # three refused, then accepted
    assert count(osmem_url) == RECORDS


def test_elasticsearch_client_against_an_elasticsearch_speaking_front(osmem_url: str) -> None:
    with proxy(osmem_url, elasticsearch=True) as front:
        proc = ship("elasticsearch", front.url, "--option", "index=es-logs")
        assert proc.returncode == 0, proc.stderr
        assert ship("elasticsearch", front.url, "--option", "index=es-logs").returncode == 0
    assert count(osmem_url, "es-logs") == RECORDS


def test_elasticsearch_client_is_refused_by_plain_osmem(osmem_url: str) -> None:
    proc = run_osops(
        "log",
        "ship",
        str(SAMPLES / "functional_01-simple_in_l3-agent.log"),
        "--sink",
        "elasticsearch",
        "--option",
        f"hosts={osmem_url}",
        "--option",
        "retries=0",
        "--retry-for",
        "0",
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"elasticsearch at {osmem_url}: ")
    assert len(proc.stderr.strip().splitlines()) == 1
