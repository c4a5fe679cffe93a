"""Redaction: every pattern's secret must not survive, in any text field, through the chain."""

from __future__ import annotations

import importlib.util
import json
import platform
import threading
from collections.abc import Iterator

import pytest
from helpers import SAMPLES, run_osops
from hypothesis import given, settings
from hypothesis import strategies as st

from osops.log import redact
from osops.log.record import LogRecord
from osops.log.redact import PATTERNS, Redact, redact_bytes, redact_text, secret_spans


@pytest.fixture(params=["hyperscan", "substring"], autouse=True)
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test runs with the Hyperscan prefilter and with the substring fallback."""
    if request.param == "substring":
        monkeypatch.setattr(redact, "_PREFILTER", [None])
    else:
        assert redact._prefilter() is not None
    yield request.param


def test_hyperscan_is_in_use_where_its_wheel_exists(scanner: str) -> None:
    # setup.cfg requires it on x86_64; losing it would only be slower, so say it here.
    if platform.machine() == "x86_64":
        assert importlib.util.find_spec("hyperscan") is not None


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_pattern_masks_its_example(pattern: object) -> None:
    assert pattern.literal in {  # type: ignore[attr-defined]
        "pass",
        "secret",
        "token",
        "_key",
        "credential",
        "authorization",
        "gaaaaa",
        "mii",
        "://",
    }
    assert pattern.secret in pattern.example  # type: ignore[attr-defined]
    assert pattern.secret not in redact_text(pattern.example)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"auth": {"passwordCredentials": {"password": "Js0nPw!"}}}', "Js0nPw!"),
        ("connection = mysql+pymysql://nova:Db-Pa55@10.0.0.5/nova?charset=utf8", "Db-Pa55"),
        ("admin_password = IniPw123", "IniPw123"),
        ("rabbit_pass=plainPw", "plainPw"),
        ("mysql -u nova --passwd=Pw-Passwd-1 nova", "Pw-Passwd-1"),
        ("passphrase = Luks-Pass-9", "Luks-Pass-9"),
        ("Ünïcödé PASSWORD: 'ßecret-1'", "ßecret-1"),
        ("metadata_proxy_shared_secret: 'Sh4red'", "Sh4red"),
        (
            "'X-Auth-Token': 'gAAAAABiToken_value_which_is_long_enough_to_be_fernet_AAAA'",
            "gAAAAABiToken",
        ),
        ('-H "X-Auth-Token: {SHA1}7b5cf2d3f1b8a2e1c0d9"', "7b5cf2d3f1b8a2e1c0d9"),
        ("Authorization: Bearer eyJhbGciOi.J9.sig", "eyJhbGciOi"),
        ("{'os_secret_key': u'AKIAsecret', 'name': 'x'}", "AKIAsecret"),
    ],
)
def test_secret_must_not_appear(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_ordinary_text_is_untouched() -> None:
    text = (
        "Instance a18a5824 spawned in 12.3 seconds; token count 4, key_name mykey, "
        "bypass=true, compass: north"
    )
    assert redact_text(text) == text


def test_every_text_field_is_redacted() -> None:
    record = LogRecord(
        raw="password=a1",
        message="password=a2",
        stack_trace="password=a3",
        error_message="password=a4",
        url_path="/x?token=a5",
        parsed=True,
    )
    Redact({}).process(record)
    assert "a1" not in json.dumps(record.to_dict()) + record.raw
    for secret in ("a2", "a3", "a4", "a5"):
        assert secret not in json.dumps(record.to_dict())


def test_real_tokens_in_bundled_logs_never_leave_osops() -> None:
    # The Kilo nova-api log carries live X-Auth-Token and x-subject-token values.
    source = (SAMPLES / "hp-ms-01-c29.nova-api.log").read_text()
    assert "3dcf524a3d44496b8b3cd6b594c23f47" in source
    proc = run_osops("log", "parse", str(SAMPLES / "hp-ms-01-c29.nova-api.log"))
    assert proc.returncode == 0, proc.stderr
    assert "3dcf524a3d44496b8b3cd6b594c23f47" not in proc.stdout
    assert '\\"X-Auth-Token: ***\\"' in proc.stdout


def test_redaction_failure_drops_the_record(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(Redact):
        """Redaction that fails on records holding 'boom'."""

        def process(self, record: LogRecord) -> LogRecord:
            if "boom" in record.raw:
                raise RuntimeError("regex engine failed on password=boom")
            return super().process(record)

    records = [
        LogRecord(raw="ok 1"),
        LogRecord(raw="password=boom", line=2),
        LogRecord(raw="ok 3"),
    ]
    out = list(Exploding({}).run(records))
    assert [r.raw for r in out] == ["ok 1", "ok 3"]
    assert "boom" not in caplog.text
    assert "failed on <stdin>:2 (RuntimeError); record dropped" in caplog.text


def test_a_block_redacts_as_its_lines_one_by_one() -> None:
    # The fused chain redacts a megabyte at a time; no pattern may cross a line end.
    data = b"".join(p.read_bytes() for p in sorted(SAMPLES.glob("*.log")))
    data += b"password:\nnext-line-is-no-secret\nX-Auth-Token:\t\nvalue\n"
    lines = data.split(b"\n")
    assert redact_bytes(data).split(b"\n") == [redact_bytes(line) for line in lines]
    assert b"next-line-is-no-secret" in redact_bytes(data)
    assert redact_bytes(data).count(b"***") > 500


def _both(data: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    with_prefilter = secret_spans(data)
    saved = redact._PREFILTER[:]
    redact._PREFILTER[:] = [None]
    try:
        return with_prefilter, secret_spans(data)
    finally:
        redact._PREFILTER[:] = saved


def test_prefilter_and_substring_search_find_the_same_secrets(scanner: str) -> None:
    data = b"".join(p.read_bytes() for p in sorted(SAMPLES.rglob("*.log")))
    data += "".join(p.example + "\n" for p in PATTERNS).encode()
    found, expected = _both(data)
    assert found == expected and len(found) > 100


PIECES = st.sampled_from(
    [
        "password",
        "PassWord",
        "_pass",
        "passwd",
        "pass",
        "passphrase",
        "secret",
        "token",
        "_key",
        "credential",
        "Authorization",
        "gAAAAA" + "x" * 44,
        "MII" + "A" * 110,
        "://",
        "u:p@",
        ",",
        "'",
        '"',
        "=",
        ":",
        " ",
        "\t",
        "\n",
        "\r",
        "bearer ",
        "{SHA1}",
        "x",
        "é",
        "@",
        "/",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_prefilter_never_misses_what_the_patterns_find(text: str) -> None:
    found, expected = _both(text.encode())
    assert found == expected


def test_threads_scan_at_once(scanner: str) -> None:
    data = (SAMPLES / "hp-ms-01-c29.nova-api.log").read_bytes()
    expected = secret_spans(data)
    results: list[list[tuple[int, int]]] = []

    def scan() -> None:
        for _ in range(5):
            results.append(secret_spans(data))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 20
