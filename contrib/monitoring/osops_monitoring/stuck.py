"""The stuck_resources check: servers, volumes and images that stopped moving."""

from __future__ import annotations

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck
from osops_monitoring.synthetic import age_seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin
    from keystoneauth1.session import Session

COMPUTE = {"OpenStack-API-Version": "compute 2.37"}
VOLUME = {"OpenStack-API-Version": "volume 3.27"}
#: Volume statuses that name a transition, not a state to rest in.
MOVING = frozenset(
    {
        "creating",
        "deleting",
        "attaching",
        "detaching",
        "extending",
        "downloading",
        "uploading",
        "retyping",
        "backing-up",
        "restoring-backup",
        "awaiting-transfer",
        "reserved",
    }
)
PAGE = 1000
SHOWN = 3


class StuckResources(OpenStackCheck):
    """Check for servers, volumes and images that failed or stopped half-way, in every project.

    Servers in ERROR, or with a task state (building, deleting, migrating...)
    unchanged for ``--stuck-minutes``; volumes in ``error*`` or in a
    transitional status (``creating``, ``deleting``, ``attaching``...) that long;
    images ``queued`` or ``saving`` that long. Counts each kind and names the
    first few. Reads every page, so the timeout bounds a big cloud's listing.
    """

    service = "openstack"
    arguments = (
        *CLOUD_ARGUMENTS,
        Argument(
            "stuck-minutes",
            "Minutes in a transitional state after which a resource counts as stuck.",
            type="float",
            default=30.0,
        ),
        Argument(
            "skip",
            "Kind not to look at: servers, volumes or images.",
            repeatable=True,
            choices=("servers", "volumes", "images"),
        ),
    )
    perfdata = (
        Perf(
            "stuck_servers",
            "Servers in ERROR or stuck in a task state.",
            min=0,
            warning="0",
            fmt="{value} servers stuck",
        ),
        Perf(
            "stuck_volumes",
            "Volumes in error or stuck in a transitional status.",
            min=0,
            warning="0",
            fmt="{value} volumes stuck",
        ),
        Perf(
            "stuck_images",
            "Images stuck queued or saving.",
            min=0,
            warning="0",
            fmt="{value} images stuck",
        ),
    )
    primary = "stuck_servers"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        session = self.session()
        limit = float(self.options["stuck_minutes"]) * 60
        skip = set(self.options["skip"] or [])
        found: dict[str, list[str]] = {}
        if "servers" not in skip:
            found["servers"] = self._servers(session, limit)
        if "volumes" not in skip:
            found["volumes"] = self._volumes(session, limit)
        if "images" not in skip:
            found["images"] = self._images(session, limit)
        for kind, names in found.items():
            yield metric(f"stuck_{kind}", len(names))
            if names:
                shown = ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")
                yield Detail(f"{len(names)} {kind} stuck: {shown}", label=f"stuck_{kind}")
        yield Detail(
            "nothing stuck in " + ", ".join(found)
            if not any(found.values())
            else "; ".join(f"{len(n)} {k}" for k, n in found.items()) + " stuck",
            State.OK,
        )

    def _pages(self, session: Session, service: str, path: str, key: str, headers: Any) -> Any:
        marker = None
        while True:
            page = path + f"&limit={PAGE}" + (f"&marker={marker}" if marker else "")
            data = self.get(session, service, page, headers=headers)
            try:
                items = data[key]
            except (KeyError, TypeError) as exc:
                raise CheckError(f"{service} API answered {path} without {exc}") from None
            yield from items
            if len(items) < PAGE:
                return
            marker = items[-1]["id"]

    def _servers(self, session: Session, limit: float) -> list[str]:
        stuck = []
        try:
            for server in self._pages(
                session, "compute", "/servers/detail?all_tenants=1", "servers", COMPUTE
            ):
                name = f"{server['name']} ({server['id'][:8]})"
                task = server.get("OS-EXT-STS:task_state")
                if server["status"] == "ERROR":
                    stuck.append(f"{name} ERROR")
                elif task and age_seconds(server["updated"]) >= limit:
                    stuck.append(f"{name} {server['status']}/{task}")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(f"compute API answered a server without {exc}") from None
        return stuck

    def _volumes(self, session: Session, limit: float) -> list[str]:
        stuck = []
        try:
            for volume in self._pages(
                session, "volumev3", "/volumes/detail?all_tenants=1", "volumes", VOLUME
            ):
                status = volume["status"]
                name = f"{volume.get('name') or '-'} ({volume['id'][:8]})"
                when = volume.get("updated_at") or volume["created_at"]
                moving = status in MOVING and age_seconds(when) >= limit
                if status.startswith("error") or moving:
                    stuck.append(f"{name} {status}")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(f"volumev3 API answered a volume without {exc}") from None
        return stuck

    def _images(self, session: Session, limit: float) -> list[str]:
        stuck = []
        for status in ("queued", "saving"):
            path = f"/v2/images?status={status}&limit={PAGE}"
            while path:
                data = self.get(session, "image", path)
                try:
                    for image in data["images"]:
                        if age_seconds(image["updated_at"]) >= limit:
                            stuck.append(
                                f"{image.get('name') or '-'} ({image['id'][:8]}) {status}"
                            )
                except (KeyError, TypeError, ValueError) as exc:
                    raise CheckError(f"image API answered an image without {exc}") from None
                path = data.get("next") or ""
        return stuck
