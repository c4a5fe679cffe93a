"""The volume_roundtrip probe: create a volume, wait available, optionally attach, delete."""

from __future__ import annotations

from osops.check.base import Argument
from osops.exceptions import CheckError, ServiceDown
from osops_monitoring.synthetic import (
    SYNTHETIC_ARGUMENTS,
    SyntheticCheck,
    age_seconds,
    phase_perfdata,
    timed,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from keystoneauth1.session import Session

VOLUME = {"OpenStack-API-Version": "volume 3.27"}


class VolumeRoundtrip(SyntheticCheck):
    """Create a volume, wait until available, optionally attach it to a server and detach, delete.

    Phases: create (until ``available``), attach and detach (with ``--server``:
    through nova, until ``in-use`` and back), delete (until it is gone). A
    volume that goes ``error`` is CRITICAL. A detach that never ends is often
    Nova without ``[service_user] send_service_user_token``: since
    CVE-2023-2088 Cinder refuses to delete an attachment for anyone else
    (nova-compute logs ``ConflictNovaUsingAttachment``).
    """

    service = "cinder"
    arguments = (
        *SYNTHETIC_ARGUMENTS,
        Argument("size", "Gibibytes.", type="int", default=1),
        Argument("volume-type", "Volume type (default: the cloud's default)."),
        Argument("availability-zone", "Availability zone to create it in."),
        Argument("server", "Server id to attach the volume to and detach it from."),
    )
    perfdata = phase_perfdata("create, attach, detach, delete")

    def roundtrip(self, session: Session, name: str) -> Iterator[tuple[str, float]]:
        body: dict[str, Any] = {"name": name, "size": int(self.options["size"])}
        if self.options["volume_type"]:
            body["volume_type"] = self.options["volume_type"]
        if self.options["availability_zone"]:
            body["availability_zone"] = self.options["availability_zone"]

        def create() -> Any:
            volume = self.request(
                session, "POST", "volumev3", "/volumes", headers=VOLUME, json={"volume": body}
            )["volume"]
            self.created = volume["id"]
            return self.wait_for(
                f"volume {name} not available",
                lambda: self._status(session, volume["id"], "available"),
            )

        volume, seconds = timed(create)
        yield "create", seconds
        server = self.options["server"]
        if server:
            attach = f"/servers/{server}/os-volume_attachments"
            _, seconds = timed(
                lambda: (
                    self.request(
                        session,
                        "POST",
                        "compute",
                        attach,
                        json={"volumeAttachment": {"volumeId": volume["id"]}},
                    ),
                    self.wait_for(
                        f"volume {name} not attached",
                        lambda: self._status(session, volume["id"], "in-use"),
                    ),
                )
            )
            yield "attach", seconds
            _, seconds = timed(
                lambda: (
                    self.request(
                        session, "DELETE", "compute", f"{attach}/{volume['id']}", decode=False
                    ),
                    self.wait_for(
                        f"volume {name} not detached",
                        lambda: self._status(session, volume["id"], "available"),
                    ),
                )
            )
            yield "detach", seconds
        _, seconds = timed(lambda: self.delete(session, volume["id"]))
        self.created = None
        yield "delete", seconds

    def _status(self, session: Session, volume_id: str, wanted: str) -> Any:
        volume = self.get(session, "volumev3", f"/volumes/{volume_id}", headers=VOLUME)["volume"]
        status = volume.get("status", "")
        if status.startswith("error"):
            raise ServiceDown(f"volume {volume.get('name')} went {status}")
        return volume if status == wanted else None

    def leftovers(self, session: Session, prefix: str) -> list[tuple[str, str, float]]:
        data = self.get(session, "volumev3", "/volumes/detail", headers=VOLUME)
        try:
            return [
                (v["id"], v["name"], age_seconds(v["created_at"]))
                for v in data["volumes"]
                if str(v.get("name") or "").startswith(prefix)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckError(f"volumev3 API answered /volumes/detail without {exc}") from None

    def delete(self, session: Session, resource_id: str) -> None:
        path = f"/volumes/{resource_id}"
        self.request(session, "DELETE", "volumev3", path, decode=False, allow=(404,))
        self.wait_for(f"volume {resource_id} not deleted", lambda: self._gone(session, path))

    def _gone(self, session: Session, path: str) -> bool:
        response = self.request(
            session, "GET", "volumev3", path, headers=VOLUME, decode=False, allow=(404,)
        )
        return bool(response.status_code == 404)
