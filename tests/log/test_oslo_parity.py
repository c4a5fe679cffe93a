"""Differential: osops leaks nothing oslo.utils masks, on every path, and masks no look-alike.

oslo_secrets.py writes oslo.log lines with oslo.log itself: every name of the
installed oslo.utils in every shape, secrets beyond oslo.utils, look-alikes. The
oracle is OpenStack's own redactor, ``oslo_utils.strutils.mask_password`` (and
``mask_dict_password`` for the dict shapes); on top, every case must come out
exactly as expected (the secret, and only it, replaced by ``***``).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import oslo_secrets
import pytest
from helpers import run_osops
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oslo_secrets import KEY_LINES, REQUEST, Case
from oslo_utils import strutils

from osops.log import parallel, pipeline, secrets
from osops.log.redaction import redact_text
from osops_logging import logstash
from osops_logging.bulk import Opensearch

CASES = oslo_secrets.cases()
DICT_SHAPES = {"dict", "dict_unicode", "json", "json_compact"}


def oslo_masks(case: Case) -> bool:
    """Whether OpenStack's own redactor leaves none of the secret."""
    if case.secret not in strutils.mask_password(case.message):
        return True
    if case.shape in DICT_SHAPES:
        body = case.message.replace("u'", "'")
        masked = strutils.mask_dict_password(ast.literal_eval(body))
        return case.secret not in str(masked)
    return False


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cases written by oslo.log (in a process of its own), then a key across lines."""
    path = tmp_path_factory.mktemp("oslo") / "nova-api.log"
    script = Path(oslo_secrets.__file__)
    subprocess.run([sys.executable, str(script), str(path)], check=True, timeout=120)
    return path


def test_every_key_of_the_installed_oslo_utils_is_one_osops_knows() -> None:
    known = secrets.names()
    missing = [k for k in strutils._SANITIZE_KEYS if not any(k.endswith(o) for o in known)]
    assert missing == [], "add them to osops/log/secrets.py OSLO_KEYS"
    assert list(secrets.OSLO_KEYS) == list(strutils._SANITIZE_KEYS), "oslo.utils changed its list"


def test_the_cases_cover_every_key_and_shape() -> None:
    oslo = [c for c in CASES if c.kind == "oslo"]
    assert len(oslo) == len(strutils._SANITIZE_KEYS) * 3 * len(oslo_secrets.SHAPES)
    assert sum(oslo_masks(c) for c in oslo) > len(oslo) // 2
    assert len({c.secret for c in CASES if c.secret}) == sum(1 for c in CASES if c.secret)


def _messages(records: list[dict[str, Any]]) -> list[str]:
    return [r.get("message", "") for r in records[: len(CASES)]]


def _judge(messages: list[str]) -> dict[str, list[str]]:
    """Leaks (of what oslo.utils masks), other differences from the exact output, false positives."""
    found: dict[str, list[str]] = {"leaks": [], "inexact": [], "false positives": []}
    for case, message in zip(CASES, messages, strict=True):
        if case.kind == "benign":
            if message != case.message:
                found["false positives"].append(f"{case.message!r} -> {message!r}")
        elif case.secret in message and (case.kind != "oslo" or oslo_masks(case)):
            found["leaks"].append(f"{case.shape}: {case.message!r} -> {message!r}")
        elif message != case.expected:
            found["inexact"].append(f"{case.message!r} -> {message!r} != {case.expected!r}")
    return found


def test_record_by_record_leaks_nothing_and_is_exact(logged: Path) -> None:
    records = [r.to_dict() for r in pipeline.build_chain(None).records(str(logged))]
    found = _judge(_messages(records))
    assert found == {"leaks": [], "inexact": [], "false positives": []}
    by_oslo = sum(1 for c in CASES if c.kind == "oslo" and oslo_masks(c))
    print(
        f"\n{len(CASES)} cases ({by_oslo} masked by oslo.utils, "
        f"{sum(c.kind == 'osops' for c in CASES)} beyond it, "
        f"{sum(c.kind == 'benign' for c in CASES)} look-alikes): 0 leaks, 0 false positives"
    )


def test_the_key_across_lines_is_masked_line_by_line(logged: Path) -> None:
    records = [r.to_dict() for r in pipeline.build_chain(None).records(str(logged))]
    multi, failed = records[len(CASES)], records[len(CASES) + 1]
    assert multi["message"] == "\n".join(
        [
            "Injecting key:",
            "-----BEGIN RSA PRIVATE KEY-----",
            *["***"] * len(KEY_LINES),
            "-----END RSA PRIVATE KEY-----",
        ]
    )
    # oslo.log writes the exception's text after the message (continuation lines),
    # then the traceback, every line of it prefixed: the key twice, masked twice.
    text = json.dumps(failed)
    assert "-----BEGIN RSA PRIVATE KEY-----" in failed["error.stack_trace"]
    assert text.count("***") == 2 * len(KEY_LINES)
    for line in KEY_LINES:
        assert line not in json.dumps(records)


def test_the_fused_chain_gives_the_same_bytes(logged: Path) -> None:
    chain = pipeline.build_chain(None)
    fused = chain.fused()
    assert fused is not None
    expected = b"".join(parallel.record_by_record(chain, str(logged)))
    for size in (1 << 30, 4096, 700):
        pieces = list(parallel.pieces(fused, str(logged), size))
        assert b"".join(b"".join(fused.serialize(str(logged), *p)) for p in pieces) == expected


def test_a_chain_with_redaction_last_leaks_nothing(logged: Path) -> None:
    chain = pipeline.build_chain(["parse", "enrich"])  # redact appended: folded records
    records = [r.to_dict() for r in chain.records(str(logged))]
    assert _judge(_messages(records)) == {"leaks": [], "inexact": [], "false positives": []}
    for line in KEY_LINES:
        assert line not in json.dumps(records)


# Every secret holds a number like Z0042q, except the tokens and keys found by their
# shape: those are looked for one by one.
MARKER = re.compile(r"Z[0-9]{4}q")
UNMARKED = [c.secret for c in CASES if c.secret and not MARKER.search(c.secret)] + KEY_LINES


def _secrets_in(text: str) -> list[str]:
    return MARKER.findall(text) + [secret for secret in UNMARKED if secret in text]


def test_every_command_and_sink_leaks_nothing(logged: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.nova-api.log"  # big enough to be parsed in parallel pieces
    data = logged.read_bytes()
    big.write_bytes(data * (2 * parallel.PIECE // len(data) + 2))
    runs = {
        "parse -j 2": run_osops("log", "parse", str(big), "-j", "2"),
        "parse --format text": run_osops("log", "parse", str(logged), "--format", "text"),
        "stats": run_osops("log", "stats", str(logged), "--format", "json"),
        "trace": run_osops("log", "trace", REQUEST, str(logged), "-f", "json"),
        "ship jsonl": run_osops(
            "log", "ship", str(logged), "--sink", "jsonl", "--option", f"path={tmp_path}/out"
        ),
    }
    for name, proc in runs.items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert _secrets_in(proc.stdout + proc.stderr) == [], name
    shipped = (tmp_path / "out").read_text()
    assert _secrets_in(shipped) == [] and shipped.count("\n") > len(CASES)
    assert runs["parse -j 2"].stdout.count("\n") > 2 * len(CASES)
    assert "sort_key=display_name&sort_dir=asc" in runs["parse --format text"].stdout
    assert _secrets_in(logged.read_text()) != []  # the check above can see a secret


def test_the_sinks_send_nothing_oslo_utils_would_mask(logged: Path) -> None:
    records = list(pipeline.build_chain(None).records(str(logged)))
    events = json.dumps([logstash.event(r) for r in records])
    assert _secrets_in(events) == []

    class Captured(Opensearch):
        """OpenSearch sink whose bulk call keeps the actions instead of sending them."""

        sent: list[dict[str, Any]] = []

        def client(self) -> Any:
            return object()

        def bulk(self, client: Any, actions: list[dict[str, Any]]) -> tuple[int, list[Any]]:
            self.sent.extend(actions)
            return len(actions), []

    sink = Captured({"index": "logs", "hosts": ["http://127.0.0.1:9"]})
    sink.write(records)
    assert len(Captured.sent) == len(records)
    assert _secrets_in(json.dumps(Captured.sent)) == []


# Hypothesis adds values and surroundings: whatever oslo.utils masks, osops masks,
# and the text around the value stays as it was.
VALUE = st.text(
    st.sampled_from("abcXYZ0189!$%*+,-./:;@[]^_{|}~()&#"), min_size=1, max_size=12
).filter(lambda s: s[-1] not in ",;)]}")


@settings(max_examples=400, deadline=None)
@given(
    key=st.sampled_from(strutils._SANITIZE_KEYS),
    upper=st.booleans(),
    shape=st.sampled_from(sorted(oslo_secrets.SHAPES)),
    value=VALUE,
    before=st.sampled_from(["", "x ", "DEBUG: ", "a=1, "]),
    after=st.sampled_from(["", " y", ", b=2", " end of line"]),
)
def test_leaks_nothing_oslo_utils_masks(
    key: str, upper: bool, shape: str, value: str, before: str, after: str
) -> None:
    secret = "Q9" + value
    template = before + oslo_secrets.SHAPES[shape] + after
    line = template.format(k=key.upper() if upper else key, s=secret)
    head, tail = line.split(secret)
    assume(secret not in head + tail)
    if secret in strutils.mask_password(line):
        return  # oslo.utils leaves it: nothing to hold osops to
    out = redact_text(line)
    assert secret not in out
    assert out == head + "***" + tail
