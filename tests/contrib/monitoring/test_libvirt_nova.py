"""libvirt_nova against the real Nova of the test cloud and libvirt's test driver.

libvirt's test driver (in the client library Debian's libvirt-clients brings:
no daemon) loads a node from an XML file, ``test:///path.xml``: the test writes
the domains a compute host would have, one with the UUID of a server Nova
placed on the fake driver's host, and strays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops
from support.cloud import boot, wait_active
from support.cloud.nova import COMPUTE_HOST

from osops_monitoring.libvirt import LibvirtNova

pytestmark = pytest.mark.integration
STRAY = "aaaaaaaa-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def server(cloud: dict[str, Any]) -> Iterator[dict[str, Any]]:
    real = cloud["cloud"]
    made = boot(real, cloud["ids"], "libvirt-nova")
    try:
        wait_active(real, made, 60)
        yield {"id": made, "name": "libvirt-nova"}
    finally:
        real.api.delete("compute", f"/servers/{made}")


def node(where: Path, *uuids: str) -> str:
    """A libvirt test-driver node with one domain per UUID; its connection URI."""
    xml = "".join(
        f"<domain type='test'><name>instance-{n:08x}</name><uuid>{uuid}</uuid>"
        "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        for n, uuid in enumerate(uuids, 1)
    )
    (where / "node.xml").write_text(f"<node>{xml}</node>")
    return f"test://{where}/node.xml"


def check(cloud: dict[str, Any], uri: str, *args: str) -> Any:
    return run_osops(
        *("check", "run", "libvirt_nova", "--os-cloud", "test", "--libvirt-uri", uri),
        *("--compute-host", COMPUTE_HOST, *args),
        env=cloud["env"],
        timeout=120,
    )


def test_domains_match_the_instances(
    cloud: dict[str, Any], server: dict[str, Any], tmp_path: Path
) -> None:
    proc = check(cloud, node(tmp_path, server["id"]))
    assert (proc.returncode, proc.stdout) == (
        0,
        f"LIBVIRT_NOVA OK - 1 domains, 1 instances on {COMPUTE_HOST} | unknown_domains=0;;0;0 "
        "missing_domains=0;;0;0 domains=1;;;0 instances=1;;;0\n",
    )
    emitted = {item.split("=")[0] for item in proc.stdout.split(" | ")[1].split()}
    assert emitted == {p.label for p in LibvirtNova.perfdata}


def test_strays_on_either_side_are_named(
    cloud: dict[str, Any], server: dict[str, Any], tmp_path: Path
) -> None:
    proc = check(cloud, node(tmp_path, STRAY))
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(
        f"LIBVIRT_NOVA CRITICAL - 1 domains unknown to Nova: instance-00000001 ({STRAY}), "
        f"1 instances without a domain: libvirt-nova ({server['id']}) | "
    ), proc.stdout


def test_another_hosts_view(cloud: dict[str, Any], server: dict[str, Any], tmp_path: Path) -> None:
    """The same domain seen from a host Nova places nothing on: unknown there."""
    proc = check(cloud, node(tmp_path, server["id"]), "--compute-host", "cmp-elsewhere")
    assert proc.returncode == 2, proc.stdout
    assert "1 domains unknown to Nova: instance-00000001" in proc.stdout


def test_libvirt_not_answering(cloud: dict[str, Any], tmp_path: Path) -> None:
    proc = check(cloud, f"qemu+unix:///system?socket={tmp_path}/none.sock")
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(
        f"LIBVIRT_NOVA CRITICAL - libvirt at qemu+unix:///system?socket={tmp_path}/none.sock: "
    ), proc.stdout
    assert len(proc.stdout.splitlines()) == 1
