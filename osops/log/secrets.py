"""What a secret in a log line looks like: the names, auth schemes and token shapes (data only).

:mod:`osops.log.prefilter`, :mod:`osops.log.shapes` and :mod:`osops.log.redaction`
compile these; the README's list of what is masked is written from them
(``python -m osops.log.secrets --readme README.md``).
"""

from __future__ import annotations

import sys
import textwrap
from typing import NamedTuple

#: oslo.utils' own list (``oslo_utils.strutils._SANITIZE_KEYS``, 10.2.0), the
#: names every OpenStack service masks with ``mask_password``. A name is a
#: secret's when it ends with one of these, then optional digits
#: (``os_password``, ``password1``, ``X-Auth-Token``), as oslo.utils matches
#: them; ``password_expires_at`` and ``token_expiration`` are no secrets' names.
#: tests/log/test_oslo_parity.py fails when the installed oslo.utils has a key
#: this list misses.
OSLO_KEYS = (
    "adminpass",
    "admin_pass",
    "password",
    "admin_password",
    "auth_token",
    "new_pass",
    "auth_password",
    "secret_uuid",
    "secret",
    "sys_pswd",
    "token",
    "configdrive",
    "chappassword",
    "encrypted_key",
    "private_key",
    "fernetkey",
    "sslkey",
    "passphrase",
    "cephclusterfsid",
    "octaviaheartbeatkey",
    "rabbitcookie",
    "cephmanilaclientkey",
    "pacemakerremoteauthkey",
    "designaterndckey",
    "cephadminkey",
    "heatauthencryptionkey",
    "cephclientkey",
    "keystonecredential",
    "barbicansimplecryptokek",
    "cephrgwkey",
    "swifthashsuffix",
    "migrationsshkey",
    "cephmdskey",
    "cephmonkey",
    "chapsecret",
)

#: Names osops masks beyond oslo.utils, each for where it is logged.
MORE_KEYS = (
    "passwd",  # mysql --passwd, htpasswd, /etc/passwd-style configs
    "pswd",  # sys_pswd and its kin
    "_pass",  # rabbit_pass, db_pass (not "bypass" nor "compass")
    "-pass",  # X-Storage-Pass (Swift tempauth), --pass
    "authorization",  # Authorization, Proxy-Authorization, HTTP_AUTHORIZATION
    "credential",  # Keystone credential blobs, credential=...
    "secret_key",  # os_secret_key, memcache_secret_key, aws_secret_key
    "api_key",
    "apikey",
    "auth-key",  # X-Auth-Key: Swift v1's password
    "auth_key",
    "fixed_key",  # [key_manager] fixed_key of nova and cinder
    "encryption_key",  # Heat's auth_encryption_key
    "hmac_keys",  # osprofiler
)

#: Names whose value is masked after ``name:`` even inside a sentence:
#: Keystone and keystonemiddleware have logged real token ids as "token: X".
#: (For other names a bare value after ``name:`` is masked where it ends the
#: line or a list item, as in YAML and headers, so that prose such as "Failed
#: to retrieve secret: <href> returned 404" keeps its words.)
PROSE_KEYS = ("token",)

#: HTTP authentication schemes (IANA's registry and the common others): in
#: ``Authorization: <scheme> <credentials>`` the scheme stays and the
#: credentials are masked.
AUTH_SCHEMES = (
    "aws",
    "aws4-hmac-sha256",
    "basic",
    "bearer",
    "concealed",
    "digest",
    "dpop",
    "gnap",
    "hoba",
    "hmac",
    "kerberos",
    "mac",
    "mutual",
    "negotiate",
    "ntlm",
    "oauth",
    "privatetoken",
    "scram-sha-1",
    "scram-sha-256",
    "sharedkey",
    "sharedkeylite",
    "token",
    "vapid",
)

#: Digest prefixes that keystonemiddleware and keystoneauth put before a
#: hashed token: kept, the hash after them is masked.
HASH_PREFIXES = ("{sha1}", "{sha256}")

#: How a value follows a secret's name: (shape, example with the secret S, note).
SHAPES = (
    ("dict repr, JSON", "{'password': 'S'}, \"adminPass\": \"S\"", ""),
    ("bytes repr", "{b'X-Auth-Token': b'S'}", ""),
    ("escaped JSON inside JSON", '{\\"password\\": \\"S\\"}', ""),
    ("key=value, kwargs, INI", "password=S, password = 'S', password1=S", "S up to a space"),
    ("query string", "?token=S&limit=5", "S up to & or #"),
    ("command line", "--password S, --password=S, password 'S'", ""),
    ("a flag after the name", "-n node.session.auth.password -v S", "os-brick's CHAP"),
    ("argument tuple", "('node.session.auth.password', '-v', 'S')", ""),
    ("XML", "<password>S</password>", ""),
    ("YAML, headers", "password: S, X-Subject-Token: {SHA256}S", "S ends the line or an item"),
    ("prose", "token: S not found", "tokens only"),
    ("Authorization", "Authorization: Basic S, 'Authorization': 'S'", "every scheme"),
)

#: Names that merely hold a secret's name keep their value (tested as such).
LOOK_ALIKES = (
    "password_expires_at",
    "token_expiration",
    "public_key",
    "routing_key",
    "primary_key",
    "sort_key",
    "key_name",
)


class Standalone(NamedTuple):
    """A secret found by its own shape, wherever it is."""

    name: str
    what: str  # for the README
    example: str  # for the README
    note: str  # for the README
    literal: str  # what every match starts with (lower case)
    regex: str  # Python, over lower-cased text, from the literal
    #: Hyperscan: matches wherever ``regex`` does; the literal, unless it is too
    #: common to be worth a look (a class or repeat costs compiling, at every start)
    prefilter: str


#: Secrets found by their own shape. url_password's and private_key's spans are
#: worked out by :mod:`osops.urls` and :class:`osops.log.redaction.Scanner`.
STANDALONE = (
    Standalone(
        "url_password",
        "passwords in URLs of any scheme",
        "rabbit://nova:S@ctl1:5672,nova:S@ctl2/, redis://:S@host, mysql://nova:p@ss@db/nova",
        "with no user, with @ in them, in every host of a list",
        "://",
        "",
        r"""://[^\s/?#'"<>\\]*@""",
    ),
    Standalone(
        "fernet_token",
        "Fernet tokens",
        "gAAAAAB...",
        "gAAAAA and 40 or more base64url characters",
        "gaaaaa",
        r"gaaaaa[a-z0-9_\-]{40,}={0,2}",
        "gaaaaa",
    ),
    Standalone(
        "jws_token",
        "JWS (JWT) tokens",
        "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
        "",
        "eyj",
        r"eyj[a-z0-9_\-]{8,}\.eyj[a-z0-9_\-]{8,}\.[a-z0-9_\-]*",
        "eyj",
    ),
    Standalone(
        "pki_token",
        "PKI tokens",
        "MII...",
        "MII and 100 or more base64 characters",
        "mii",
        r"mii[a-z0-9+/\-]{100,}={0,2}",
        "mii",
    ),
    Standalone(
        "pkiz_token",
        "PKIZ tokens",
        "PKIZ_...",
        "32 or more base64url characters",
        "pkiz_",
        r"pkiz_[a-z0-9_\-]{32,}",
        "pkiz_",
    ),
    Standalone(
        "ceph_key",
        "Ceph keyring keys",
        "key = AQ...==",
        "AQ, 36 base64 characters, ==",
        "aq",
        r"aq[a-z0-9+/]{36}==",
        "aq",
    ),
    Standalone(
        "private_key",
        "private key blocks",
        "-----BEGIN RSA PRIVATE KEY----- ... -----END RSA PRIVATE KEY-----",
        "on one line, or across lines: each base64 line",
        "-----begin ",
        r"-----begin [a-z0-9 ]{0,40}private key(?: block)?-----",
        "-----begin ",
    ),
)


def names() -> tuple[str, ...]:
    """Every secret name osops knows, oslo.utils' first."""
    return OSLO_KEYS + tuple(k for k in MORE_KEYS if k not in OSLO_KEYS)


def markdown() -> str:
    """The README's list of what redaction masks, written from the data above."""

    def listed(keys: tuple[str, ...]) -> str:
        return ", ".join(f"`{key}`" for key in keys)

    def note(text: str) -> str:
        return f" ({text})" if text else ""

    more = tuple(k for k in MORE_KEYS if k not in OSLO_KEYS)
    paragraph = (
        "The value of every name that ends in one of these (any case, then optional "
        f"digits): oslo.utils' own, {listed(OSLO_KEYS)}; and osops's, {listed(more)}. "
        f"A name that merely holds one keeps its value: {listed(LOOK_ALIKES)}."
    )
    out = [textwrap.fill(paragraph, 95, break_long_words=False, break_on_hyphens=False), ""]
    out += [f"- {what}: `{example}`{note(text)}" for what, example, text in SHAPES]
    out += ["", "Wherever they appear:", ""]
    out += [f"- {shape.what}: `{shape.example}`{note(shape.note)}" for shape in STANDALONE]
    return "\n".join(out) + "\n"


BEGIN = "<!-- masked: written by python -m osops.log.secrets --readme README.md -->"
END = "<!-- end of masked -->"


def write_readme(path: str) -> None:
    """Replace the generated list between :data:`BEGIN` and :data:`END` in a file."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    head, sep, rest = text.partition(BEGIN + "\n")
    _, sep2, tail = rest.partition(END)
    if not (sep and sep2):
        raise SystemExit(f"{path}: no {BEGIN} ... {END} block")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + BEGIN + "\n" + markdown() + END + tail)


if __name__ == "__main__":  # pragma: no cover - exercised by tests/test_docs.py's hint
    if sys.argv[1:2] == ["--readme"] and len(sys.argv) == 3:
        write_readme(sys.argv[2])
    else:
        sys.stdout.write(markdown())
