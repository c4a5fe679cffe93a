"""The image_roundtrip probe: upload to Glance, wait for active, download, compare, delete."""

from __future__ import annotations

import hashlib
import os

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

    from keystoneauth1.session import Session

OCTETS = {"Content-Type": "application/octet-stream"}


class ImageRoundtrip(SyntheticCheck):
    """Upload a small image to Glance, wait for active, download and compare it, delete it.

    Phases: create (the image record), upload (the data), active (until Glance
    says so), download (and the checksum compared with what was sent and with
    Glance's own md5 and multihash), delete (until it is gone). A checksum that
    differs, or an image that goes ``killed``, is CRITICAL.
    """

    service = "glance"
    arguments = (
        *SYNTHETIC_ARGUMENTS,
        Argument("size", "Kibibytes of random data to upload.", type="int", default=64),
    )
    perfdata = phase_perfdata("create, upload, active, download, delete")

    def roundtrip(self, session: Session, name: str) -> Iterator[tuple[str, float]]:
        payload = os.urandom(int(self.options["size"]) * 1024)
        image, seconds = timed(
            lambda: self.request(
                session,
                "POST",
                "image",
                "/v2/images",
                json={"name": name, "disk_format": "raw", "container_format": "bare"},
            )
        )
        self.created = image["id"]
        path = f"/v2/images/{image['id']}"
        yield "create", seconds
        _, seconds = timed(
            lambda: self.request(
                session, "PUT", "image", f"{path}/file", headers=OCTETS, data=payload
            )
        )
        yield "upload", seconds
        found, seconds = timed(
            lambda: self.wait_for("image not active", lambda: self._active(session, path))
        )
        yield "active", seconds
        response, seconds = timed(
            lambda: self.request(session, "GET", "image", f"{path}/file", decode=False)
        )
        yield "download", seconds
        data = response.content
        digests = {
            "sent md5": hashlib.md5(payload, usedforsecurity=False).hexdigest(),
            "glance md5": found.get("checksum"),
        }
        if found.get("os_hash_algo") == "sha512":
            digests["glance sha512"] = found.get("os_hash_value")
        got = hashlib.md5(data, usedforsecurity=False).hexdigest()
        wrong = [what for what, digest in digests.items() if digest and digest not in (got,)]
        if (
            "glance sha512" in wrong
            and hashlib.sha512(data).hexdigest() == digests["glance sha512"]
        ):
            wrong.remove("glance sha512")
        if len(data) != len(payload) or wrong:
            raise ServiceDown(
                f"image {name} downloaded {len(data)} of {len(payload)} bytes, "
                f"checksum differs from {', '.join(wrong) or 'the upload'}"
            )
        _, seconds = timed(lambda: self.delete(session, image["id"]))
        self.created = None
        yield "delete", seconds

    def _active(self, session: Session, path: str) -> dict[str, str] | None:
        image = self.get(session, "image", path)
        if image.get("status") in ("killed", "deleted", "pending_delete"):
            raise ServiceDown(f"image {image.get('name')} went {image['status']}")
        return image if image.get("status") == "active" else None

    def leftovers(self, session: Session, prefix: str) -> list[tuple[str, str, float]]:
        found = []
        path = "/v2/images?limit=100"
        while path:
            data = self.get(session, "image", path)
            try:
                for image in data["images"]:
                    if str(image.get("name") or "").startswith(prefix):
                        found.append(
                            (image["id"], image["name"], age_seconds(image["created_at"]))
                        )
            except (KeyError, TypeError, ValueError) as exc:
                raise CheckError(f"image API answered /v2/images without {exc}") from None
            path = data.get("next") or ""
        return found

    def delete(self, session: Session, resource_id: str) -> None:
        path = f"/v2/images/{resource_id}"
        self.request(session, "DELETE", "image", path, decode=False, allow=(404,))
        self.wait_for(f"image {resource_id} not gone", lambda: self._gone(session, path))

    def _gone(self, session: Session, path: str) -> bool:
        response = self.request(session, "GET", "image", path, decode=False, allow=(404,))
        return bool(response.status_code == 404)
