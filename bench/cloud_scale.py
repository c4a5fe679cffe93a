"""quota_headroom, placement_capacity and nova_hypervisors on a big cloud: time, memory, bounds.

    flock /tmp/osops-heavy.lock .venv/bin/python bench/cloud_scale.py [--projects 1000]
        [--providers 500]

Starts the test cloud (tests/support/cloud, as tools/cloud does) in .work/scale,
creates ``--projects`` projects in Keystone besides admin (two of them near a
quota: a port quota of 2 with both ports used, one named to be checked first
and one last; 1,000 and admin are more than Keystone lists at once) and
``--providers`` resource providers with VCPU, MEMORY_MB and DISK_GB
inventories in Placement, 8 at a time, then runs each check as Icinga would, a
process of its own (tests/measure.py: wait4's rusage of that child alone), and
prints its exit code, wall and CPU seconds, peak RSS and status line.
quota_headroom runs on one project (the baseline), on every project with the
default timeout (what is not reached in time is counted unchecked, and the
check must end within its timeout), with a timeout long enough for every
project, and with a higher ``--concurrency``; nova_hypervisors (two Placement
calls per provider) with the default timeout, one too short, and a long one.
Every process it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from measure import run_measured  # noqa: E402
from support import keystone, rabbitmq  # noqa: E402
from support.cloud import Cloud  # noqa: E402
from support.cloud.api import Api  # noqa: E402
from support.cloud.seed import seed  # noqa: E402

from osops.check.settings import DEFAULT_TIMEOUT  # noqa: E402

OSOPS = str(Path(sys.executable).parent / "osops")
#: Projects near a quota: the first and the last by name, as quota_headroom orders them.
NEAR = ("aaa-near-quota", "zzz-near-quota")
#: What each scale provider holds: a 64-core, 256 GiB, 2 TiB compute node.
INVENTORY = {
    "VCPU": {"total": 64, "allocation_ratio": 4.0},
    "MEMORY_MB": {"total": 262144, "reserved": 512},
    "DISK_GB": {"total": 2048},
}


def many(count: int, make: Callable[[int], object]) -> float:
    """``make(0)`` .. ``make(count - 1)``, 8 at a time; the seconds it took."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in pool.map(make, range(count)):
            pass  # an error raises here
    return time.monotonic() - started


def retried(call: Callable[[], object]) -> None:
    """``call()``, again while SQLite (Keystone's, Placement's) is locked by a concurrent write.

    Such a write answers HTTP 500 and is rolled back; a 409 on a later attempt
    means the earlier one got through after all.
    """
    for attempt in range(20):
        try:
            call()
            return
        except RuntimeError as exc:
            if attempt and "HTTP 409" in str(exc):
                return
            if "HTTP 500" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.05 * (attempt + 1))


def near_quota(api: Api, name: str, network: str) -> None:
    """A project whose port quota is 2, both used."""
    project = api.post(
        "keystone", "/projects", {"project": {"name": name, "domain_id": "default"}}
    )
    project_id = project["project"]["id"]
    api.put("network", f"/quotas/{project_id}", {"quota": {"port": 2}})
    for _ in range(2):
        api.post("network", "/ports", {"port": {"network_id": network, "project_id": project_id}})


def populate(api: Api, ids: dict[str, object], projects: int, providers: int) -> None:
    def project(n: int) -> None:
        body = {"project": {"name": f"scale-{n:04d}", "domain_id": "default"}}
        retried(lambda: api.post("keystone", "/projects", body))

    def provider(n: int) -> None:
        rp = str(uuid.uuid4())
        body = {"name": f"scale-{n:04d}", "uuid": rp}
        retried(lambda: api.post("placement", "/resource_providers", body))
        retried(
            lambda: api.put(
                "placement",
                f"/resource_providers/{rp}/inventories",
                {"resource_provider_generation": 0, "inventories": INVENTORY},
            )
        )

    networks = ids["networks"]
    assert isinstance(networks, dict)
    for name in NEAR:
        near_quota(api, name, networks["private"])
    print(f"{projects} projects created in {many(projects - len(NEAR), project):.1f} s")
    print(f"{providers} resource providers created in {many(providers, provider):.1f} s")
    total = projects_in(api)
    placed = len(api.get("placement", "/resource_providers")["resource_providers"])
    print(f"now {total} projects in Keystone, {placed} resource providers in Placement\n")


def projects_in(api: Api) -> int:
    """Projects in Keystone, page by page (it lists 1000 at most at once)."""
    seen: set[str] = set()
    path = "/projects?limit=1000"
    while True:
        data = api.get("keystone", path)
        seen.update(p["id"] for p in data["projects"])
        following = (data.get("links") or {}).get("next")
        if not following or not data["projects"]:
            return len(seen)
        path = "/projects?" + urlsplit(following).query


def measure(label: str, args: list[str], env: dict[str, str], bound: float | None) -> None:
    """One check as a process of its own: exit, wall and CPU seconds, peak RSS, status line."""
    done = run_measured([OSOPS, "check", "run", *args], 900.0, 2 << 30, env=env)
    line = (done.stdout or done.stderr).partition("\n")[0]
    within = ""
    if bound is not None:
        within = f", {'within' if done.wall <= bound + 1.0 else 'PAST'} its {bound:g} s timeout"
    print(
        f"{label}\n  exit {done.returncode}, {done.wall:.1f} s wall, {done.cpu:.1f} s CPU, "
        f"peak RSS {done.rss_mib:.0f} MiB{within}\n  {line}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/cloud_scale.py", description=__doc__)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--providers", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=ROOT / ".work" / "scale")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    for part in ("keystone", "rabbitmq", "services"):
        (args.dir / part).mkdir(parents=True)
    with (
        keystone.running(args.dir / "keystone") as ks,
        rabbitmq.running(args.dir / "rabbitmq") as node,
    ):
        cloud = Cloud(args.dir / "services", ks.url, ks.password, node.api, node.amqp)
        started = time.monotonic()
        cloud.start()
        try:
            ids = seed(cloud.api)
            print(f"cloud up and seeded in {time.monotonic() - started:.0f} s")
            populate(cloud.api, ids, args.projects, args.providers)
            env = {"OS_CLIENT_CONFIG_FILE": str(ks.clouds_yaml(args.dir / "clouds.yaml"))}
            cloud_args = ["--os-cloud", "test"]
            quota = ["quota_headroom", *cloud_args]
            for label, argv, bound in (
                (
                    "quota_headroom --project admin (one project)",
                    [*quota, "--project", "admin"],
                    DEFAULT_TIMEOUT,
                ),
                ("quota_headroom (default -t 10, --concurrency 8)", quota, DEFAULT_TIMEOUT),
                ("quota_headroom -t 600 (--concurrency 8)", [*quota, "-t", "600"], None),
                (
                    "quota_headroom -t 600 --concurrency 16",
                    [*quota, "-t", "600", "--concurrency", "16"],
                    None,
                ),
                (
                    "placement_capacity (default -t 10)",
                    ["placement_capacity", *cloud_args],
                    DEFAULT_TIMEOUT,
                ),
                (
                    "nova_hypervisors (default -t 10)",
                    ["nova_hypervisors", *cloud_args],
                    DEFAULT_TIMEOUT,
                ),
                ("nova_hypervisors -t 4", ["nova_hypervisors", *cloud_args, "-t", "4"], 4.0),
                ("nova_hypervisors -t 60", ["nova_hypervisors", *cloud_args, "-t", "60"], None),
            ):
                measure(label, argv, env, bound)
        finally:
            cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
