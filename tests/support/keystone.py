"""The test Keystone from PyPI (sqlite, fernet) under gunicorn, a clouds.yaml, its fixture."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import daemon

from osops.testing import free_port

ADMIN = {"username": "admin", "password": "Adm1n-Pw", "project_name": "admin"}
VENV = Path(__file__).resolve().parents[2] / ".work" / "keystone-venv" / "bin"
WSGI_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "keystone"


@dataclass
class Keystone:
    url: str
    port: int
    password: str
    config: Path  # keystone.conf, for keystone-manage and keystone-status

    def token(self) -> str:
        """An admin token scoped to the admin project."""
        import requests

        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": ADMIN["username"],
                            "domain": {"id": "default"},
                            "password": self.password,
                        }
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        response = requests.post(f"{self.url}/v3/auth/tokens", json=body, timeout=30)
        response.raise_for_status()
        return str(response.headers["X-Subject-Token"])

    def clouds_yaml(self, path: Path, extra: dict[str, str] | None = None) -> Path:
        """clouds: ``test`` (admin), ``wrong`` (bad password), ``down`` (nothing listening),
        ``tls`` (https to a plain-http Keystone), and ``extra`` (name: region of admin)."""
        url = self.url
        auth = (
            "      user_domain_name: Default\n      project_domain_name: Default\n"
            "      project_name: admin\n      username: admin\n"
        )
        text = (
            "clouds:\n"
            f"  test:\n    region_name: RegionOne\n    auth:\n      auth_url: {url}/v3\n{auth}"
            f"      password: {self.password}\n"
            f"  wrong:\n    auth:\n      auth_url: {url}/v3\n{auth}      password: Wr0ng-Ks-Pw\n"
            f"  down:\n    auth:\n      auth_url: http://127.0.0.1:{free_port()}/v3\n{auth}"
            f"      password: {self.password}\n"
            f"  tls:\n    auth:\n      auth_url: https://127.0.0.1:{self.port}/v3\n{auth}"
            f"      password: {self.password}\n"
        )
        for name, region in (extra or {}).items():
            text += (
                f"  {name}:\n    region_name: {region}\n    auth:\n      auth_url: {url}/v3\n"
                f"{auth}      password: {self.password}\n"
            )
        path.write_text(text)
        return path


@contextlib.contextmanager
def running(where: Path) -> Iterator[Keystone]:
    """Bootstrap Keystone in ``where`` (identity in the catalog, region RegionOne) and serve it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    conf = where / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\nuse_stderr = true\n"
        # bcrypt's fewest rounds: each check authenticates, and a busy test
        # host must not spend a check's timeout hashing the password.
        "[identity]\npassword_hash_rounds = 4\n"
        f"[database]\nconnection = sqlite:///{where}/keystone.db\n"
        "[token]\nprovider = fernet\n"
        f"[fernet_tokens]\nkey_repository = {where}/fernet-keys\n"
        f"[fernet_receipts]\nkey_repository = {where}/fernet-keys\n"
        f"[credential]\nkey_repository = {where}/credential-keys\n"
    )
    manage = [str(VENV / "keystone-manage"), "--config-file", str(conf)]
    for step in (
        ["db_sync"],
        ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
        ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
        [
            "bootstrap",
            "--bootstrap-password",
            ADMIN["password"],
            "--bootstrap-admin-url",
            f"{url}/v3",
            "--bootstrap-public-url",
            f"{url}/v3",
            "--bootstrap-internal-url",
            f"{url}/v3",
            "--bootstrap-region-id",
            "RegionOne",
        ],
    ):
        subprocess.run([*manage, *step], check=True, capture_output=True, timeout=300)
    argv: list[Any] = [
        str(VENV / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--chdir",
        str(WSGI_DIR),
        "keystone_wsgi:application",
    ]
    with daemon(argv, port, where / "keystone.log", env={"OS_KEYSTONE_CONFIG_FILES": str(conf)}):
        yield Keystone(url, port, ADMIN["password"], conf)


@pytest.fixture(scope="session")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Keystone from PyPI (sqlite, fernet) served by gunicorn (support.keystone).

    Yields the Keystone URL, the server, and OS_CLIENT_CONFIG_FILE env with
    clouds: ``test`` (admin), ``wrong`` (bad password), ``down`` (nothing listening),
    ``tls`` (https to a plain-http Keystone), ``faulty`` (admin in region RegionTwo,
    where the ``cloud`` fixture puts its fault-injecting proxies).
    """
    where = tmp_path_factory.mktemp("keystone")
    with running(where) as server:
        clouds = server.clouds_yaml(where / "clouds.yaml", {"faulty": "RegionTwo"})
        yield {
            "url": server.url,
            "config": str(server.config),
            "server": server,
            "env": {"OS_CLIENT_CONFIG_FILE": str(clouds)},
            "password": server.password,
        }
