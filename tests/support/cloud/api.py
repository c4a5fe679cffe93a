"""A small admin client of the test cloud's APIs, for setting it up and making faults."""

from __future__ import annotations

import time
from typing import Any

import requests

from .base import Settings

#: Microversions the set-up speaks; the checks choose their own.
HEADERS = {
    "compute": {"OpenStack-API-Version": "compute 2.96"},
    "placement": {"OpenStack-API-Version": "placement 1.36"},
    "volume": {"OpenStack-API-Version": "volume 3.70"},
}


class Api:
    """Admin calls by service name, with a token renewed before it expires."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._token = ""
        self._project_id = ""
        self._got = 0.0

    def token(self) -> str:
        if not self._token or time.monotonic() - self._got > 1800:
            body = {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": "admin",
                                "domain": {"id": "default"},
                                "password": self.settings.admin_password,
                            }
                        },
                    },
                    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
                }
            }
            response = requests.post(
                f"{self.settings.keystone_url}/v3/auth/tokens", json=body, timeout=30
            )
            response.raise_for_status()
            self._token = response.headers["X-Subject-Token"]
            self._project_id = response.json()["token"]["project"]["id"]
            self._got = time.monotonic()
        return self._token

    @property
    def project_id(self) -> str:
        self.token()
        return self._project_id

    def base(self, service: str) -> str:
        if service == "keystone":
            return f"{self.settings.keystone_url}/v3"
        if service == "volume":
            return f"{self.settings.url('cinder')}/v3/{self.project_id}"
        if service == "compute":
            return f"{self.settings.url('nova')}/v2.1"
        if service == "network":
            return f"{self.settings.url('neutron')}/v2.0"
        if service == "image":
            return f"{self.settings.url('glance')}/v2"
        return self.settings.url(service)

    def request(
        self, method: str, service: str, path: str, body: Any = None, ok: tuple[int, ...] = ()
    ) -> Any:
        headers = {"X-Auth-Token": self.token(), **HEADERS.get(service, {})}
        response = requests.request(
            method, self.base(service) + path, json=body, headers=headers, timeout=60
        )
        if ok and response.status_code in ok:
            return None
        if response.status_code >= 400:
            raise RuntimeError(
                f"{method} {service}{path}: HTTP {response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else None

    def request_raw(self, method: str, service: str, path: str, data: bytes) -> None:
        headers = {"X-Auth-Token": self.token(), "Content-Type": "application/octet-stream"}
        response = requests.request(
            method, self.base(service) + path, data=data, headers=headers, timeout=60
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path}: HTTP {response.status_code}")

    def get(self, service: str, path: str) -> Any:
        return self.request("GET", service, path)

    def post(self, service: str, path: str, body: Any) -> Any:
        return self.request("POST", service, path, body)

    def put(self, service: str, path: str, body: Any) -> Any:
        return self.request("PUT", service, path, body)

    def delete(self, service: str, path: str) -> Any:
        return self.request("DELETE", service, path, ok=(404,))
