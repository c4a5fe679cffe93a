"""The synthetic probes, capacity, quota and stuck-resource checks against the real cloud."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops
from support.cloud import boot, wait_active
from support.cloud.base import wait

from osops.testing import parse_output
from osops_monitoring.image import ImageRoundtrip
from osops_monitoring.placement import PlacementCapacity
from osops_monitoring.quota import QuotaHeadroom
from osops_monitoring.server import ServerBoot
from osops_monitoring.stuck import StuckResources
from osops_monitoring.volume import VolumeRoundtrip

pytestmark = pytest.mark.integration
PREFIX = "osops-probe-"


@pytest.fixture
def os(cloud: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The cloud, with a state directory of the test's own for the probes' locks."""
    yield {**cloud, "state": str(tmp_path)}
    for proxy in cloud["proxies"].values():
        proxy.fault = None
        proxy.delay = 0.2  # as the proxy starts (test_quota_headroom_bounded_... sets it)


def check(os: dict[str, Any], name: str, *args: str, os_cloud: str = "test") -> Any:
    return run_osops(
        "check", "run", name, "--os-cloud", os_cloud, *args, env=os["env"], timeout=120
    )


def probe(os: dict[str, Any], name: str, *args: str) -> Any:
    return check(os, name, "--state-dir", os["state"], *args)


def labels(stdout: str) -> set[str]:
    return {item.base_label for item in parse_output(stdout)["perfdata"].values()}


def phases(stdout: str) -> dict[str, float]:
    return {
        m[0]: float(m[1]) for m in re.findall(r"time\[(\w+)\]=([\d.]+)s", stdout.split(" | ")[1])
    }


def prefixed(real: Any, kind: str) -> list[str]:
    if kind == "images":
        items = real.api.get("image", "/images")["images"]
    elif kind == "servers":
        items = real.api.get("compute", "/servers")["servers"]
    else:
        items = real.api.get("volume", "/volumes")["volumes"]
    return [i["name"] for i in items if str(i.get("name") or "").startswith(PREFIX)]


# -- image_roundtrip -------------------------------------------------------------------------


def test_image_roundtrip(os: dict[str, Any]) -> None:
    proc = probe(os, "image_roundtrip")
    assert proc.returncode == 0, proc.stdout
    assert re.match(
        r"IMAGE_ROUNDTRIP OK - create [\d.]+s, upload [\d.]+s, active [\d.]+s, "
        r"download [\d.]+s, delete [\d.]+s \| ",
        proc.stdout,
    ), proc.stdout
    assert list(phases(proc.stdout)) == ["create", "upload", "active", "download", "delete"]
    assert labels(proc.stdout) == {p.label for p in ImageRoundtrip.perfdata}
    assert "leftovers=0;;;0" in proc.stdout
    assert prefixed(os["cloud"], "images") == []


def test_image_roundtrip_deletes_a_killed_runs_leftover(os: dict[str, Any]) -> None:
    real = os["cloud"]
    name = f"{PREFIX}image_roundtrip-20260101T000000-dead00"
    real.api.post(
        "image", "/images", {"name": name, "disk_format": "raw", "container_format": "bare"}
    )
    proc = probe(os, "image_roundtrip", "--leftover-minutes", "0")
    assert proc.returncode == 0, proc.stdout
    assert f"; deleted 1 leftovers: {name} | leftovers=1;;;0" in proc.stdout
    assert prefixed(real, "images") == []


def test_image_roundtrip_unknown_when_a_leftover_cannot_be_deleted(os: dict[str, Any]) -> None:
    real = os["cloud"]
    name = f"{PREFIX}image_roundtrip-20260101T000000-guard0"
    image = real.api.post(
        "image",
        "/images",
        {"name": name, "disk_format": "raw", "container_format": "bare", "protected": True},
    )
    try:
        proc = probe(os, "image_roundtrip", "--leftover-minutes", "0")
        assert (proc.returncode, proc.stdout) == (
            3,
            "IMAGE_ROUNDTRIP UNKNOWN - cannot delete the leftovers of earlier runs: image API "
            "refused the credentials (HTTP 403)\n",
        )
    finally:
        _unprotect(real, image["id"])
        real.api.delete("image", f"/images/{image['id']}")


def _unprotect(real: Any, image_id: str) -> None:
    import requests

    response = requests.patch(
        f"{real.api.base('image')}/images/{image_id}",
        data='[{"op": "replace", "path": "/protected", "value": false}]',
        headers={
            "X-Auth-Token": real.api.token(),
            "Content-Type": "application/openstack-images-v2.1-json-patch",
        },
        timeout=30,
    )
    response.raise_for_status()


def test_image_roundtrip_one_copy_at_a_time(os: dict[str, Any]) -> None:
    lock = Path(os["state"]) / "osops-image_roundtrip-test.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = probe(os, "image_roundtrip")
    assert (proc.returncode, proc.stdout) == (
        3,
        f"IMAGE_ROUNDTRIP UNKNOWN - another image_roundtrip is running (lock {lock})\n",
    )


def test_image_roundtrip_glance_hung(os: dict[str, Any]) -> None:
    real = os["cloud"]
    real.procs.pause("glance-api")
    try:
        proc = probe(os, "image_roundtrip", "-t", "3")
    finally:
        real.procs.resume("glance-api")
    # Whichever comes first: the call's own timeout, or the check's. A stopped server's
    # listen queue fills, so the call may time out connecting rather than reading.
    leftovers = "IMAGE_ROUNDTRIP UNKNOWN - cannot delete the leftovers of earlier runs: image API"
    assert (proc.returncode, proc.stdout) in (
        (3, f"{leftovers} did not answer in 3s\n"),
        (3, f"{leftovers} did not accept a connection in 3s\n"),
        (3, "IMAGE_ROUNDTRIP UNKNOWN - timed out after 3s\n"),
    )


# -- server_boot -----------------------------------------------------------------------------


def test_server_boot(os: dict[str, Any]) -> None:
    proc = probe(os, "server_boot", "--image", "cirros-fake", "--flavor", "m1.tiny", "-t", "60")
    assert proc.returncode == 0, proc.stdout
    assert re.match(
        r"SERVER_BOOT OK - schedule [\d.]+s, spawn [\d.]+s, delete [\d.]+s \| ", proc.stdout
    ), proc.stdout
    assert labels(proc.stdout) == {p.label for p in ServerBoot.perfdata}
    assert prefixed(os["cloud"], "servers") == []


def test_server_boot_image_name_is_quoted_into_the_query(os: dict[str, Any]) -> None:
    """A name with "&" and "/" asks Glance for that name, not a cut one or another path."""
    proc = probe(os, "server_boot", "--image", "cirros-fake&x=1/..", "-t", "30")
    assert (proc.returncode, proc.stdout) == (
        3,
        "SERVER_BOOT UNKNOWN - no image cirros-fake&x=1/..\n",
    )
    assert prefixed(os["cloud"], "servers") == []


def test_server_boot_stuck_while_compute_is_stopped(os: dict[str, Any]) -> None:
    """nova-compute stopped during the boot: CRITICAL naming where it stuck; nothing left."""
    real = os["cloud"]
    real.procs.pause("nova-compute")
    try:
        proc = probe(os, "server_boot", "--image", "cirros-fake", "-t", "12")
        assert proc.returncode == 2, proc.stdout
        assert re.match(
            r"SERVER_BOOT CRITICAL - server osops-probe-server_boot-\S+ still BUILD "
            r"\(task (scheduling|spawning|networking|block_device_mapping|none)\)\n$",
            proc.stdout,
        ), proc.stdout
    finally:
        real.procs.resume("nova-compute")
    # Its delete was asked for; with the compute back, the next run finds nothing left or
    # deletes what is, and says so.
    proc = probe(
        os, "server_boot", "--image", "cirros-fake", "--leftover-minutes", "0", "-t", "60"
    )
    assert proc.returncode == 0, proc.stdout
    wait(lambda: prefixed(real, "servers") == [], 60, "the stuck server gone", real.procs)


# -- volume_roundtrip ------------------------------------------------------------------------


def test_volume_roundtrip(os: dict[str, Any]) -> None:
    proc = probe(os, "volume_roundtrip", "-t", "60")
    assert proc.returncode == 0, proc.stdout
    assert re.match(r"VOLUME_ROUNDTRIP OK - create [\d.]+s, delete [\d.]+s \| ", proc.stdout)
    assert labels(proc.stdout) == {p.label for p in VolumeRoundtrip.perfdata}
    assert prefixed(os["cloud"], "volumes") == []


def test_volume_roundtrip_attached_to_a_server(os: dict[str, Any]) -> None:
    """With --server: attached through Nova (the fake driver, Cinder's fake volume driver),
    in-use, detached, available again, deleted; the server keeps no attachment."""
    real = os["cloud"]
    server = boot(real, os["ids"], "osops-test-attach")
    try:
        wait_active(real, server)
        proc = probe(os, "volume_roundtrip", "--server", server, "-t", "90")
        assert proc.returncode == 0, proc.stdout
        assert re.match(
            r"VOLUME_ROUNDTRIP OK - create [\d.]+s, attach [\d.]+s, detach [\d.]+s, "
            r"delete [\d.]+s \| ",
            proc.stdout,
        ), proc.stdout
        assert list(phases(proc.stdout)) == ["create", "attach", "detach", "delete"]
        attached = real.api.get("compute", f"/servers/{server}/os-volume_attachments")
        assert attached["volumeAttachments"] == []
        assert prefixed(real, "volumes") == []
    finally:
        real.api.delete("compute", f"/servers/{server}")


def test_volume_roundtrip_cinder_volume_stopped(os: dict[str, Any]) -> None:
    real = os["cloud"]
    real.procs.pause("cinder-volume")
    try:
        proc = probe(os, "volume_roundtrip", "-t", "8")
    finally:
        real.procs.resume("cinder-volume")
    assert proc.returncode == 2, proc.stdout
    assert re.match(
        r"VOLUME_ROUNDTRIP CRITICAL - volume osops-probe-volume_roundtrip-\S+ not available "
        r"after [\d.]+s\n$",
        proc.stdout,
    ), proc.stdout
    # A volume still creating cannot be deleted: the next run does it, and says so.
    wait(
        lambda: all(
            v["status"] != "creating"
            for v in real.api.get("volume", "/volumes/detail")["volumes"]
            if v["name"].startswith(PREFIX)
        ),
        60,
        "the stuck volume created",
        real.procs,
    )
    left = prefixed(real, "volumes")
    proc = probe(os, "volume_roundtrip", "--leftover-minutes", "0", "-t", "60")
    assert proc.returncode == 0, proc.stdout
    if left:
        assert f"deleted {len(left)} leftovers: {left[0]}" in proc.stdout
    assert prefixed(real, "volumes") == []


# -- placement_capacity ----------------------------------------------------------------------

# SmallFakeDriver: 2 vCPUs at ratio 4.0, 8192 MiB with 512 reserved at 1.0, 1028 GiB.
# m1.tiny (1, 512, 1): min(8, 15, 1028) = 8; m1.small (2, 2048, 10): min(4, 3, 102) = 3.


def test_placement_capacity(os: dict[str, Any]) -> None:
    proc = check(os, "placement_capacity", "-w", "2:", "-c", "1:")
    assert (proc.returncode, proc.stdout) == (
        0,
        "PLACEMENT_CAPACITY OK - 2 flavors, least room for m1.small: 3 more | "
        "free_instances[m1.small]=3;2:;1:;0 free_instances[m1.tiny]=8;2:;1:;0\n",
    )
    assert labels(proc.stdout) == {p.label for p in PlacementCapacity.perfdata}


def test_placement_capacity_filled_goes_warning(os: dict[str, Any]) -> None:
    real = os["cloud"]
    rp = real.api.get("placement", "/resource_providers?name=cmp-1")["resource_providers"][0]
    # Three other consumers take 2 vCPUs each (max_unit is 2).
    consumers = [f"7e57c0de-0000-4000-8000-00000000000{n}" for n in (2, 3, 4)]
    for consumer in consumers:
        real.api.put(
            "placement",
            f"/allocations/{consumer}",
            {
                "allocations": {rp["uuid"]: {"resources": {"VCPU": 2}}},
                "project_id": real.api.project_id,
                "user_id": "osops-test",
                "consumer_generation": None,
            },
        )
    try:
        proc = check(os, "placement_capacity", "-w", "2:", "-c", "1:")
        assert (proc.returncode, proc.stdout) == (
            1,
            "PLACEMENT_CAPACITY WARNING - free_instances[m1.small] fits 1 more "
            "(outside range 2:) | "
            "free_instances[m1.small]=1;2:;1:;0 free_instances[m1.tiny]=2;2:;1:;0\n",
        )
    finally:
        for consumer in consumers:
            real.api.delete("placement", f"/allocations/{consumer}")


def test_placement_capacity_counts_dedicated_cpus_apart(os: dict[str, Any]) -> None:
    """A dedicated-CPU flavor asks for PCPU, which only a provider with PCPU has;
    the shared flavors' room (VCPU) does not change by it."""
    real = os["cloud"]
    rp = real.api.post("placement", "/resource_providers", {"name": "osops-pinned-host"})
    inventories = {"PCPU": {"total": 4}, "MEMORY_MB": {"total": 4096}, "DISK_GB": {"total": 100}}
    real.api.put(
        "placement",
        f"/resource_providers/{rp['uuid']}/inventories",
        {"resource_provider_generation": rp["generation"], "inventories": inventories},
    )
    flavor = real.api.post(
        "compute",
        "/flavors",
        {"flavor": {"name": "m1.pinned", "vcpus": 2, "ram": 1024, "disk": 5}},
    )["flavor"]
    real.api.post(
        "compute",
        f"/flavors/{flavor['id']}/os-extra_specs",
        {"extra_specs": {"hw:cpu_policy": "dedicated"}},
    )
    try:
        # m1.pinned: min(4 / 2, 4096 / 1024, 100 / 5) = 2, on the pinned host only.
        proc = check(
            os,
            "placement_capacity",
            "--flavor",
            "m1.pinned",
            "--flavor",
            "m1.tiny",
            "-w",
            "2:",
            "-c",
            "1:",
        )
        assert (proc.returncode, proc.stdout) == (
            0,
            "PLACEMENT_CAPACITY OK - 2 flavors, least room for m1.pinned: 2 more | "
            "free_instances[m1.pinned]=2;2:;1:;0 free_instances[m1.tiny]=8;2:;1:;0\n",
        )
    finally:
        real.api.delete("compute", f"/flavors/{flavor['id']}")
        real.api.delete("placement", f"/resource_providers/{rp['uuid']}")


def test_placement_capacity_per_zone(os: dict[str, Any]) -> None:
    real = os["cloud"]
    aggregate = real.api.post(
        "compute", "/os-aggregates", {"aggregate": {"name": "rack-1", "availability_zone": "az1"}}
    )["aggregate"]
    path = f"/os-aggregates/{aggregate['id']}/action"
    real.api.post("compute", path, {"add_host": {"host": "cmp-1"}})
    try:
        proc = check(os, "placement_capacity", "--availability-zone", "az1", "--flavor", "m1.tiny")
        assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
            0,
            "PLACEMENT_CAPACITY OK - 1 flavors in zone az1, least room for m1.tiny: 8 more",
        )
        proc = check(os, "placement_capacity", "--availability-zone", "az9")
        assert (proc.returncode, proc.stdout) == (
            3,
            "PLACEMENT_CAPACITY UNKNOWN - no host aggregate in zone az9\n",
        )
    finally:
        real.api.post("compute", path, {"remove_host": {"host": "cmp-1"}})
        real.api.delete("compute", f"/os-aggregates/{aggregate['id']}")


# -- quota_headroom --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant(cloud: dict[str, Any]) -> Iterator[str]:
    """Project tenant-a with a port quota of 2, both used."""
    real = cloud["cloud"]
    domain = "default"
    project = real.api.post(
        "keystone", "/projects", {"project": {"name": "tenant-a", "domain_id": domain}}
    )["project"]
    real.api.put("network", f"/quotas/{project['id']}", {"quota": {"port": 2}})
    network = cloud["ids"]["networks"]["private"]
    ports = [
        real.api.post(
            "network", "/ports", {"port": {"network_id": network, "project_id": project["id"]}}
        )["port"]["id"]
        for _ in range(2)
    ]
    yield project["id"]
    for port in ports:
        real.api.delete("network", f"/ports/{port}")
    real.api.delete("keystone", f"/projects/{project['id']}")


def test_quota_headroom(os: dict[str, Any], tenant: str) -> None:
    proc = check(os, "quota_headroom", "--project", "tenant-a")
    assert (proc.returncode, proc.stdout) == (
        1,
        "QUOTA_HEADROOM WARNING - 1 projects near quota: tenant-a port 100% (2 of 2) | "
        "projects_near_quota=1;0;;0;1 projects_checked=1;;;0;1 projects_unchecked=0;0;;0;1\n",
    )
    assert labels(proc.stdout) == {p.label for p in QuotaHeadroom.perfdata}
    proc = check(os, "quota_headroom", "--project", "admin")
    assert (proc.returncode, proc.stdout.partition(" | ")[0]) == (
        0,
        "QUOTA_HEADROOM OK - 1 projects checked, none near 90% of a quota",
    )


def test_quota_headroom_project_timeout(os: dict[str, Any], tenant: str) -> None:
    os["proxies"]["compute"].fault = "hang"
    proc = check(
        os,
        "quota_headroom",
        "--project",
        "tenant-a",
        "--project-timeout",
        "1",
        "-t",
        "5",
        os_cloud="faulty",
    )
    # A hung API may hold the connection or the answer: either way, the project's 1 s.
    assert proc.returncode == 1, proc.stdout
    assert re.match(
        r"QUOTA_HEADROOM WARNING - 1 of 1 projects unchecked \(tenant-a: compute API did not "
        r"(answer|accept a connection) in 1s\) \| ",
        proc.stdout,
    ), proc.stdout


@pytest.fixture(scope="module")
def crowd(cloud: dict[str, Any]) -> Iterator[int]:
    """30 more projects, crowd-00 to crowd-29 (one at a time: Keystone's SQLite
    answers concurrent writes with HTTP 500, database locked)."""
    real = cloud["cloud"]
    made: list[str] = []
    try:
        for n in range(30):
            body = {"project": {"name": f"crowd-{n:02d}", "domain_id": "default"}}
            made.append(real.api.post("keystone", "/projects", body)["project"]["id"])
        yield len(made)
    finally:
        for project_id in made:
            real.api.delete("keystone", f"/projects/{project_id}")


def test_quota_headroom_bounded_on_many_projects(
    os: dict[str, Any], tenant: str, crowd: int
) -> None:
    """More projects than -t reaches, through a compute API that answers each call 0.3 s
    late and then hangs: the result comes within -t, counting every project as
    checked or unchecked; the process exits with it, not after the calls still
    hanging (concurrent.futures' workers, joined at exit, kept it until theirs
    timed out); the API never holds more than --concurrency calls."""
    import subprocess
    import threading
    import time
    from os import environ

    from helpers import OSOPS

    proxy = os["proxies"]["compute"]
    proxy.fault, proxy.delay = "slow", 0.3
    proxy.reset_peak()
    hang = threading.Timer(3.0, setattr, (proxy, "fault", "hang"))
    argv = [str(OSOPS), "check", "run", "quota_headroom", "--os-cloud", "faulty", "-t", "5"]
    argv += ["--concurrency", "3", "--skip", "volumev3", "--skip", "network"]
    started = time.monotonic()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, env={**environ, **os["env"]}
    ) as proc:
        hang.start()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            answered = time.monotonic() - started
            proc.stdout.read()
            proc.wait(30)
            exited = time.monotonic() - started
        finally:
            hang.cancel()
            proc.kill()
    total = len(os["cloud"].api.get("keystone", "/projects")["projects"])
    perf = parse_output(line)["perfdata"]
    checked, unchecked = perf["projects_checked"].value, perf["projects_unchecked"].value
    assert proc.returncode == 1, line
    assert checked + unchecked == total >= crowd, line
    assert checked >= 3 and unchecked >= 1, line
    assert line.startswith(
        f"QUOTA_HEADROOM WARNING - {unchecked:g} of {total} projects unchecked "
        "(not reached in 5s) | "
    ), line
    assert answered <= 5 + 1.5, (answered, line)
    assert exited - answered < 0.5, (exited, answered)
    assert proxy.peak == 3, proxy.peak


# -- stuck_resources -------------------------------------------------------------------------


def test_stuck_resources(os: dict[str, Any]) -> None:
    proc = check(os, "stuck_resources", "--stuck-minutes", "0")
    assert (proc.returncode, proc.stdout) == (
        0,
        "STUCK_RESOURCES OK - nothing stuck in servers, volumes, images | "
        "stuck_servers=0;0;;0 stuck_volumes=0;0;;0 stuck_images=0;0;;0\n",
    )
    assert labels(proc.stdout) == {p.label for p in StuckResources.perfdata}


def test_stuck_resources_made_real(os: dict[str, Any]) -> None:
    """A server building while its compute is stopped, a volume no backend can hold,
    an image never uploaded."""
    real = os["cloud"]
    image = real.api.post(
        "image",
        "/images",
        {"name": "never-uploaded", "disk_format": "raw", "container_format": "bare"},
    )
    kind = real.api.post(
        "volume",
        "/types",
        {"volume_type": {"name": "nowhere", "extra_specs": {"volume_backend_name": "nowhere"}}},
    )["volume_type"]
    volume = real.api.post(
        "volume",
        "/volumes",
        {"volume": {"name": "no-backend", "size": 1, "volume_type": "nowhere"}},
    )["volume"]
    real.procs.pause("nova-compute")
    server = None
    try:
        server = boot(real, os["ids"], "stuck-one")
        wait(
            lambda: (
                real.api.get("volume", f"/volumes/{volume['id']}")["volume"]["status"] == "error"
            ),
            60,
            "the volume in error",
            real.procs,
        )
        proc = check(os, "stuck_resources", "--stuck-minutes", "0")
        assert proc.returncode == 1, proc.stdout
        status, _, perfdata = proc.stdout.partition(" | ")
        assert re.fullmatch(
            r"STUCK_RESOURCES WARNING - 1 servers stuck: stuck-one \(\w{8}\) (BUILD/\w+|ERROR), "
            r"1 volumes stuck: no-backend \(\w{8}\) error, "
            r"1 images stuck: never-uploaded \(\w{8}\) queued",
            status,
        ), status
        assert perfdata == "stuck_servers=1;0;;0 stuck_volumes=1;0;;0 stuck_images=1;0;;0\n"
        # Not yet stuck for a minute: only the failed ones count.
        proc = check(os, "stuck_resources", "--stuck-minutes", "1")
        assert "stuck_images=0;0;;0" in proc.stdout and "stuck_volumes=1;0;;0" in proc.stdout
    finally:
        real.procs.resume("nova-compute")
        if server is not None:
            real.api.delete("compute", f"/servers/{server}")
        real.api.delete("volume", f"/volumes/{volume['id']}")
        real.api.delete("image", f"/images/{image['id']}")
        wait(
            lambda: not real.api.get("volume", "/volumes")["volumes"],
            30,
            "volume gone",
            real.procs,
        )
        real.api.delete("volume", f"/types/{kind['id']}")
    wait(
        lambda: (
            prefixed(real, "servers") == []
            and not [
                s
                for s in real.api.get("compute", "/servers")["servers"]
                if s["name"] == "stuck-one"
            ]
        ),
        60,
        "the stuck server deleted",
        real.procs,
    )
