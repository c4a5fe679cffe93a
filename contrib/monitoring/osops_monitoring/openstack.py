"""Credentials and API calls shared by the OpenStack checks: clouds.yaml, keystoneauth1."""

from __future__ import annotations

import abc
import os

from osops.check.base import Argument, Check
from osops.exceptions import CheckError, ServiceDown, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystoneauth1.session import Session

#: How every OpenStack check authenticates: as operators already do.
CLOUD_ARGUMENTS: tuple[Argument, ...] = (
    Argument("os-cloud", "Cloud in clouds.yaml (default: $OS_CLOUD, or the OS_* environment)."),
    Argument(
        "os-client-config-file",
        "clouds.yaml to read instead of the standard places (useful for the monitoring user).",
    ),
    Argument("os-region-name", "Region of the endpoints to check."),
    Argument(
        "os-interface",
        "Endpoint interface.",
        default="public",
        choices=("public", "internal", "admin"),
    ),
    Argument("os-cacert", "CA bundle to verify TLS against."),
    Argument("insecure", "Do not verify TLS certificates.", type="bool", default=False),
)


class OpenStackCheck(Check, abc.ABC):
    """Base of checks that talk to OpenStack APIs; subclasses override probe().

    Credentials come from clouds.yaml (``--os-cloud``) and the ``OS_*``
    environment through openstacksdk's config loader and a keystoneauth1
    session, never from the command line, so no secret reaches argv.
    """

    arguments = CLOUD_ARGUMENTS
    #: Failing to reach Keystone is this check's own CRITICAL only for Keystone checks.
    keystone_is_the_service = False

    def session(self) -> Session:
        """An authenticated-on-demand keystoneauth1 session for the chosen cloud.

        :raises UsageError: the cloud is not configured
        """
        from openstack import config as os_config
        from openstack import exceptions as os_exceptions

        verify: bool | str = not self.options["insecure"]
        kwargs: dict[str, Any] = {"verify": verify}
        if self.options["os_cacert"]:
            kwargs["cacert"] = self.options["os_cacert"]
        if self.options["os_region_name"]:
            kwargs["region_name"] = self.options["os_region_name"]
        files = None
        if self.options["os_client_config_file"]:
            files = [self.options["os_client_config_file"]]
            if not os.access(files[0], os.R_OK):
                raise UsageError(f"--os-client-config-file {files[0]}: not readable")
        try:
            cloud = os_config.OpenStackConfig(config_files=files).get_one(
                cloud=self.options["os_cloud"], **kwargs
            )
            session: Session = cloud.get_session()
        except os_exceptions.ConfigException as exc:
            raise UsageError(f"clouds.yaml: {_reason(exc)}") from None
        except Exception as exc:  # keystoneauth1 plugin errors: bad or missing auth settings
            raise UsageError(
                f"cloud {self.options['os_cloud'] or '(environment)'}: {_reason(exc)}"
            ) from None
        session.timeout = self.timeout
        self._auth_url_seen = cloud.config.get("auth", {}).get("auth_url")
        # The region of clouds.yaml or OS_REGION_NAME, when --os-region-name does not say.
        self.region = self.options["os_region_name"] or cloud.config.get("region_name") or None
        self.authenticate(session)
        return session

    def api_deadline(self) -> float:
        """time.monotonic() by which a check's API calls end: what is not done by then is
        given up, and the rest of the timeout is the result's."""
        import time

        return time.monotonic() + self.timeout * 0.9

    def authenticate(self, session: Session) -> None:
        """Get a token now, so that Keystone's failures are not blamed on another service."""
        from keystoneauth1 import exceptions as ka

        try:
            session.get_auth_headers()
        except ka.ClientException as exc:
            raise self.auth_failure(exc) from None

    def get(
        self, session: Session, service_type: str, path: str, headers: dict[str, str] | None = None
    ) -> Any:
        """GET a path under a service's endpoint from the catalog; the decoded JSON.

        :raises ServiceDown: the service refused, failed (5xx) or timed out at TCP level
        :raises CheckError: authentication, permission or a malformed answer
        """
        return self.request(session, "GET", service_type, path, headers=headers)

    def request(
        self,
        session: Session,
        method: str,
        service_type: str,
        path: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        decode: bool = True,
        stream: bool = False,
        allow: tuple[int, ...] = (),
        timeout: float | None = None,
    ) -> Any:
        """One call under a service's endpoint from the catalog, bounded by the timeout.

        :param decode: return the decoded JSON (``None`` for an empty body); else the response
        :param allow: statuses returned as they are (e.g. 404 while waiting for a deletion)
        :param timeout: seconds for this call, when less than the check's
        :raises ServiceDown: the service refused, failed (5xx) or timed out at TCP level
        :raises CheckError: authentication, permission, a 4xx or a malformed answer
        """
        from keystoneauth1 import exceptions as ka

        try:
            response = session.request(
                path,
                method,
                endpoint_filter={
                    "service_type": service_type,
                    "interface": self.options["os_interface"],
                    "region_name": self.region,
                },
                headers=headers or {},
                json=json,
                data=data,
                raise_exc=False,
                connect_retries=0,
                stream=stream,
                timeout=min(timeout or self.timeout, self.timeout),
            )
        except ka.EndpointNotFound:
            raise CheckError(
                f"no {self.options['os_interface']} {service_type} endpoint in the catalog"
            ) from None
        except ka.ConnectFailure as exc:
            raise ServiceDown(f"{service_type} API unreachable: {_reason(exc)}") from None
        except ka.ConnectTimeout:
            seconds = min(timeout or self.timeout, self.timeout)
            raise CheckError(
                f"{service_type} API did not accept a connection in {seconds:g}s"
            ) from None
        except ka.RequestTimeout:
            seconds = min(timeout or self.timeout, self.timeout)
            raise CheckError(f"{service_type} API did not answer in {seconds:g}s") from None
        except ka.SSLError as exc:
            raise ServiceDown(f"TLS to the {service_type} API failed: {_reason(exc)}") from None
        except (ka.AuthorizationFailure, ka.Unauthorized) as exc:
            raise self.auth_failure(exc) from None
        except ka.ClientException as exc:
            raise CheckError(f"{service_type} API: {_reason(exc)}") from None
        shown = path.split("?", 1)[0] if method != "GET" else path
        if response.status_code in allow:
            return response
        if response.status_code in (401, 403):
            raise CheckError(
                f"{service_type} API refused the credentials (HTTP {response.status_code})"
            )
        if response.status_code >= 500:
            raise ServiceDown(
                f"{service_type} API answered HTTP {response.status_code} for {method} {shown}"
                if method != "GET"
                else f"{service_type} API answered HTTP {response.status_code} for {path}"
            )
        if response.status_code >= 400:
            raise CheckError(
                f"{service_type} API answered HTTP {response.status_code} for "
                + (f"{method} {shown}" if method != "GET" else path)
            )
        if not decode:
            return response
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CheckError(f"{service_type} API answered {path} with invalid JSON") from None

    def _auth_url(self) -> str:
        return str(getattr(self, "_auth_url_seen", None) or "the configured auth_url")

    def auth_failure(self, exc: BaseException) -> Exception:
        """The error for a failed authentication: Keystone's problem or the operator's."""
        from keystoneauth1 import exceptions as ka

        if isinstance(exc, ka.SSLError):
            message = f"TLS to Keystone at {self._auth_url()} failed"
            return ServiceDown(message) if self.keystone_is_the_service else CheckError(message)
        if isinstance(exc, ka.ConnectFailure | ka.DiscoveryFailure | ka.ConnectTimeout):
            message = f"cannot reach Keystone at {self._auth_url()}"
            return ServiceDown(message) if self.keystone_is_the_service else CheckError(message)
        if isinstance(exc, ka.HttpError) and (exc.http_status or 0) >= 500:
            message = f"Keystone answered HTTP {exc.http_status}"
            return ServiceDown(message) if self.keystone_is_the_service else CheckError(message)
        return CheckError(f"authentication failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """First line of an error, without the urllib3 retry chatter after it."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
