"""The test cloud (support.cloud) behind the Keystone fixture, as a session fixture."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def cloud(
    tmp_path_factory: pytest.TempPathFactory, keystone: dict[str, Any], rabbitmq_node: Any
) -> Iterator[dict[str, Any]]:
    """A real OpenStack behind the Keystone fixture (support.cloud): Placement, Glance,
    Nova (fake driver), Cinder (fake driver), Neutron (ML2, a DHCP agent), with flavors,
    an image and external networks (support.cloud.seed).

    Yields the Keystone fixture's keys plus ``cloud`` (processes, admin client,
    timings), ``ids`` of what was seeded, and ``proxies``: the fault-injecting
    proxies in front of compute, network and volumev3 in region RegionTwo.
    """
    from support import fault_proxy
    from support.cloud import FAULT_REGION, Cloud
    from support.cloud.seed import seed

    where = tmp_path_factory.mktemp("cloud")
    started = time.monotonic()
    real = Cloud(
        where, keystone["url"], keystone["password"], rabbitmq_node.api, rabbitmq_node.amqp
    )
    real.start()
    proxies: dict[str, Any] = {}
    try:
        ids = seed(real.api)
        for name, kind, upstream in (
            ("nova", "compute", real.settings.url("nova") + "/v2.1"),
            ("neutron", "network", real.settings.url("neutron")),
            ("cinderv3", "volumev3", real.settings.url("cinder") + "/v3/%(project_id)s"),
        ):
            root, _, path = upstream.partition("/v")
            proxies[kind] = fault_proxy.start(root)
            real.register(
                name, kind, proxies[kind].url + (f"/v{path}" if path else ""), FAULT_REGION
            )
        # Keystone itself in that region too: checks that list projects find it there.
        real.register("keystone", "identity", keystone["url"] + "/v3", FAULT_REGION)
        real.timings["fixture"] = time.monotonic() - started
        yield {**keystone, "cloud": real, "ids": ids, "proxies": proxies}
    finally:
        for proxy in proxies.values():
            fault_proxy.stop(proxy)
        real.stop()
