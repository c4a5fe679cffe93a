"""oslo.log lines with one secret each, in the shapes OpenStack logs them, and look-alikes.

Imported, this module gives the cases: what a service logs, the secret in it, and
exactly what osops must make of it. Run as a script it writes them with oslo.log
itself, one INFO record per case in order, then a private key in a message of
several lines and in an exception's text (oslo.log's setup is process-wide, so the
tests run it in a subprocess)::

    python tests/log/oslo_secrets.py OUT.log

The names are the installed oslo.utils' own (``strutils._SANITIZE_KEYS``): a key
oslo.utils adds is tested here the day it is released.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import sys
from collections.abc import Iterator

from oslo_utils import strutils

from osops.log import secrets

GLOBAL = "req-0b8f36d4-4f5a-4e3c-9d0e-8c1f2a3b4c5d"
REQUEST = "req-6a9c1e2f-3b4d-4e5f-8a6b-7c8d9e0f1a2b"


@dataclasses.dataclass(frozen=True)
class Case:
    """One logged message and what redaction must make of it."""

    message: str
    secret: str  # "" for a look-alike that must come out unchanged
    kind: str  # "oslo": a name oslo.utils masks; "osops": beyond oslo.utils; "benign"
    shape: str
    out: str = ""  # the expected message when it is not the secret replaced by ***

    @property
    def expected(self) -> str:
        if self.out:
            return self.out
        return self.message.replace(self.secret, "***") if self.secret else self.message


# How services log a name and its value ({k} the name, {s} the value).
SHAPES = {
    "dict": "{{'{k}': '{s}', 'name': 'vm1'}}",
    "dict_unicode": "{{u'{k}': u'{s}', u'name': u'vm1'}}",
    "json": '{{"{k}": "{s}", "name": "vm1"}}',
    "json_compact": '{{"{k}":"{s}","name":"vm1"}}',
    "bytes": "{{b'{k}': b'{s}', b'name': b'vm1'}}",
    "escaped_json": 'body: "{{\\"{k}\\": \\"{s}\\", \\"name\\": \\"vm1\\"}}"',
    "key_value": "{k}={s} name=vm1",
    "ini": "{k} = {s}",
    "digits": "{k}1={s} name=vm1",
    "kwargs": "connect(user='admin', {k}='{s}', port=5)",
    "kwargs_double": 'connect(user="admin", {k}="{s}", port=5)',
    "xml": "<{k}>{s}</{k}><name>vm1</name>",
    "cli": "cmd --{k} {s} --verbose",
    "cli_quoted": "cmd --{k} '{s}' --verbose",
    "spaced": "got {k} '{s}' for admin",
    "flag": "iscsiadm -m node --op update -n node.session.auth.{k} -v {s}",
    "tuple": (
        "Running cmd: ('iscsiadm', '-m', 'node', '--op', 'update', "
        "'-n', 'node.session.auth.{k}', '-v', '{s}')"
    ),
    "yaml": "{k}: {s}",
}
BARE = ("key_value", "ini", "digits", "cli", "flag")
# What a value may hold, by shape: partial masking shows up as a piece left over.
VALUES = {
    "bare": ("{n}x", "Pw,{n}", "Pw;{n}", "Pw){n}", "{{{n}}}", "[{n}", "{n}-Tail", "p@{n}"),
    "quoted": ("{n}x", "Pw {n}", "Pw,{n}", "Pw){n}", "{{{n}", "[{n}", "p@{n}", "{n}-Tail"),
    "yaml": ("{n}x", "Pw,{n}", "{n}-Tail", "p@{n}"),
}


def _values(shape: str) -> tuple[str, ...]:
    return VALUES["bare" if shape in BARE else "yaml" if shape == "yaml" else "quoted"]


class _Numbers:
    """Secrets no other text holds: Z0001q, Z0002q ..."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"Z{self.count:04d}q"


def spellings(key: str) -> tuple[str, ...]:
    """A name as logged: as listed, after a prefix, in capitals."""
    if key[0] in "-_":  # osops's "_pass", "-pass": part of a longer name
        return (f"rabbit{key}", f"X-Storage{key}".title())
    return (key, f"os_{key}", key.upper())


def keyed(keys: tuple[str, ...], kind: str, number: _Numbers) -> Iterator[Case]:
    """Every name in every shape, the value's pieces varied across the names."""
    for shape, template in SHAPES.items():
        values = _values(shape)
        turn = 0
        for key in keys:
            for name in spellings(key):
                secret = values[turn % len(values)].format(n=number())
                turn += 1
                yield Case(template.format(k=name, s=secret), secret, kind, shape)


URL_SCHEMES = ("rabbit", "amqp", "mysql+pymysql", "postgresql", "redis", "https", "ftp", "etcd3")
HEADERS = ("X-Auth-Token", "X-Subject-Token", "X-Service-Token", "X-Storage-Token", "X-Auth-Key")


def _pem(seed: str, size: int) -> list[str]:
    data = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(size // 32 + 1))
    text = base64.b64encode(data[:size]).decode()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def beyond(number: _Numbers) -> Iterator[Case]:
    """Secrets oslo.utils does not mask and osops does."""
    more = tuple(k for k in secrets.MORE_KEYS if k not in secrets.OSLO_KEYS)
    for shape in ("dict", "json", "bytes", "key_value", "cli", "xml", "yaml", "flag"):
        template = SHAPES[shape]
        for key in more:
            for name in spellings(key):
                secret = f"{number()}x"
                yield Case(template.format(k=name, s=secret), secret, "osops", shape)
    for scheme in URL_SCHEMES:
        s = number()
        yield Case(f"transport_url = {scheme}://nova:{s}@ctl1:5672/", s, "osops", "url")
        s = number()
        yield Case(f"backend = {scheme}://:{s}@cache:6379/0", s, "osops", "url_no_user")
        s = f"p@{number()}"
        yield Case(f"connection = {scheme}://nova:{s}@db/nova?x=1", s, "osops", "url_at")
        s = number()
        multi = f"{scheme}://nova:{s}@ctl1:5672,nova:{s}@ctl2:5672/"
        yield Case(f"transport_url = {multi}", s, "osops", "url_hosts")
    for header in HEADERS:
        for template in (
            'curl -i -H "{h}: {s}" http://ctl/',
            "{h}: {s}",
            "{{'{h}': '{s}', 'Accept': 'json'}}",
            "{{b'{h}': b'{s}'}}",
            "{h}: {{SHA256}}{s}",
        ):
            s = f"gAAAAABl-{number()}"
            yield Case(template.format(h=header, s=s), s, "osops", "header")
    s = number()
    yield Case(f"Token: {s} not found in cache", s, "osops", "token_prose")
    for scheme in secrets.AUTH_SCHEMES:
        s = f"{number()}=="
        yield Case(
            f'curl -H "Authorization: {scheme.title()} {s}" http://ctl/', s, "osops", "auth"
        )
        s = number()
        yield Case(f"{{'HTTP_AUTHORIZATION': '{scheme} {s}'}}", s, "osops", "auth")
    s = number()
    yield Case(
        f'Authorization: Digest username="admin", realm="r", nonce="n", response="{s}"',
        s,
        "osops",
        "auth_params",
        "Authorization: Digest ***",
    )
    s = number()
    yield Case(f"Authorization: {s}", s, "osops", "auth_raw")
    yield from _tokens(number)


def _tokens(number: _Numbers) -> Iterator[Case]:
    n = number()
    fernet = "gAAAAAB" + base64.urlsafe_b64encode(hashlib.sha512(n.encode()).digest()).decode()
    yield Case(f"Token {fernet} validated", fernet, "osops", "fernet")
    jws = f"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ{n}In0.c2ln{n}"
    yield Case(f"validating {jws}", jws, "osops", "jws")
    pki = "MIIEPAYJKoZIhvcNAQcCoIIELTCC" + "".join(_pem(n, 96))
    yield Case(f"token {pki}", pki, "osops", "pki")
    pkiz = f"PKIZ_eJylU9tu2zAM_ZUi7-wHX2XLs8Ayw{n}"
    yield Case(f"token {pkiz}", pkiz, "osops", "pkiz")
    for template in ("[client.cinder] key = {}", "rbd:volumes/v-1:id=cinder:key={}:conf=/etc/c"):
        digest = hashlib.sha256(number().encode()).digest()[:27]
        ceph = "AQ" + base64.b64encode(digest).decode() + "=="
        yield Case(template.format(ceph), ceph, "osops", "ceph")
    body = "\\n" + "\\n".join(_pem(number(), 120)) + "\\n"
    block = f"-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----\\n"
    yield Case(f"Stdout: '{block}'", body, "osops", "private_key")
    body = "#012" + "#012".join(_pem(number(), 100)) + "#012"
    yield Case(
        f"key -----BEGIN PRIVATE KEY-----{body}-----END PRIVATE KEY-----",
        body,
        "osops",
        "private_key",
    )


BENIGN = (
    "{'key_name': 'mykey', 'public_key': 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ nova@ctl1'}",
    "public_key=ssh-rsa routing_key=notifications.info primary_key=id key_name=mykey",
    '10.0.0.9 "GET /v2.1/servers/detail?sort_key=display_name&sort_dir=asc HTTP/1.1" '
    "status: 200 len: 1893 microversion: 2.1 time: 0.2477829",
    "sort_key=created_at sort_dir=desc limit=10",
    "token_expiration=3600 {'password_expires_at': '2024-01-01T00:00:00.000000'}",
    '{"user": {"password_expires_at": null, "name": "admin"}}',
    "Policy authorization: os_compute_api:servers:show allowed",
    "Failed to retrieve secret: http://barbican:9311/v1/secrets/5c1d returned 404",
    '{"token": {"methods": ["password", "token"], "expires_at": "2015-10-29T15:41:09Z"}}',
    "auth_type = password sslkey_file=/etc/ssl/key.pem",
    "{'secret_ref': 'http://barbican:9311/v1/secrets/1', 'token_type': 'Bearer'}",
    "Authenticating user token; token count 4",
    "bypass=true compass: north; password reset requested for admin",
    "Instance a18a5824 spawned in 12.3 seconds; tokens=5 passwords: 2 of 3 secrets loaded",
    "Live migration to qemu+ssh://nova@cmp-2/system started",
    "GET http://ctl:8774/v2.1/servers?name=x@y",
    "{'password': '***', 'token': '***'}",
    "-----BEGIN PUBLIC KEY-----#012MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A#012-----END PUBLIC KEY-----",
)


def cases() -> list[Case]:
    number = _Numbers()
    found = list(keyed(tuple(strutils._SANITIZE_KEYS), "oslo", number))
    found += beyond(number)
    found += [Case(text, "", "benign", "look-alike") for text in BENIGN]
    return found


# A private key as a service logs it across lines: a message of several lines
# (continuation lines, no prefix) and an exception's text (every line prefixed).
KEY_LINES = _pem("multi-line", 1190)
KEY_BLOCK = "\n".join(
    ["-----BEGIN RSA PRIVATE KEY-----", *KEY_LINES, "-----END RSA PRIVATE KEY-----"]
)


def write(path: str) -> None:
    from oslo_config import cfg
    from oslo_context import context
    from oslo_log import log

    conf = cfg.ConfigOpts()
    log.register_options(conf)
    conf([], project="osops-secrets")
    conf.set_override("log_file", path)
    conf.set_override("use_stderr", False)
    log.setup(conf, "osops-secrets")
    logger = log.getLogger("nova.api.openstack")
    ctx = context.RequestContext(
        user_id="6f4e3a2b1c0d4e5f8a9b0c1d2e3f4a5b",
        project_id="9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d",
        global_request_id=GLOBAL,
        request_id=REQUEST,
    )
    for case in cases():
        logger.info(case.message, context=ctx)
    logger.info("Injecting key:\n%s", KEY_BLOCK, context=ctx)
    try:
        raise ValueError(f"key rejected:\n{KEY_BLOCK}")
    except ValueError:
        logger.exception("Key injection failed", context=ctx)
    logger.info("done", context=ctx)


if __name__ == "__main__":
    write(sys.argv[1])
