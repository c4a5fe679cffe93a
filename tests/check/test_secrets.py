"""No secret in check output: URL passwords and secret option values, whole values only."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops

from osops.check import runner, suite
from osops.check.base import Argument, Check, Detail, Perf, metric
from osops.check.secrets import hide, hide_result, secrets_of, url_passwords
from osops.exceptions import CheckError

URL = "http://admin:Url-Pw-9@127.0.0.1:9/stats"
SHOWN = "http://admin:<hidden>@127.0.0.1:9/stats"


class Leaky(Check):
    """A check that quotes its URL and password wherever it can."""

    arguments = (
        Argument("url", "Where.", default="http://127.0.0.1:9/"),
        Argument("password", "A secret.", secret=True, default="Zz-default-pw"),
        Argument("load", "Value.", type="float", default=1.0),
        Argument("fail", "Raise.", choices=("", "quote", "bare")),
    )
    perfdata = (Perf("load", "Primary.", warning="5", critical="10"),)

    def probe(self) -> Iterator[Any]:
        url, password = self.options["url"], self.options["password"]
        if self.options["fail"] == "quote":
            raise CheckError(f"cannot log in to {url} with password '{password}'")
        if self.options["fail"] == "bare":
            raise KeyError(url)
        yield metric("load", self.options["load"])
        yield Detail(f"asked {url} as 127.0.0.1 user 1 with password={password}")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = runner.main(["leaky", *argv], out=out, load=lambda name: Leaky)
    return code, out.getvalue()


@pytest.mark.parametrize("fmt", ["nagios", "json", "prometheus"])
@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vvv"]])
@pytest.mark.parametrize("fail", ["", "quote", "bare"])
def test_url_password_and_secret_never_shown(fmt: str, verbosity: list[str], fail: str) -> None:
    argv = ["--url", URL, "--password", "Opt-Pw-7", "--output-format", fmt, *verbosity]
    code, out = run(*argv, *(["--fail", fail] if fail else []))
    assert code == (3 if fail else 0)
    assert "Url-Pw-9" not in out and "Opt-Pw-7" not in out
    if fmt != "prometheus" and (fail or verbosity):
        assert SHOWN in out


def test_exact_lines() -> None:
    assert run("--url", URL, "--password", "Opt-Pw-7", "--fail", "quote")[1] == (
        f"LEAKY UNKNOWN - cannot log in to {SHOWN} with password '<hidden>'\n"
    )
    assert run("--url", URL, "--password", "Opt-Pw-7", "-v")[1] == (
        "LEAKY OK - load is 1 | load=1;5;10\n"
        f"asked {SHOWN} as 127.0.0.1 user 1 with password=<hidden>\n"
    )


def _without_duration(text: str) -> str:
    if text.startswith("{"):
        data = json.loads(text)
        del data["duration_seconds"]
        return json.dumps(data)
    return "\n".join(line for line in text.splitlines() if "duration" not in line)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-v"],
        ["--load", "1.1", "-w", "1", "-v"],
        ["--load", "11", "-c", "load=1"],
        ["--output-format", "json", "-v"],
        ["--output-format", "prometheus"],
        ["--fail", "bare", "-vvv"],
    ],
)
@pytest.mark.parametrize("secret", ["1", "0", "7", ".", "-", "is", "OK", "CRITICAL"])
def test_a_short_or_common_secret_changes_no_other_character(argv: list[str], secret: str) -> None:
    # The text around is full of it: 127.0.0.1, "load is 1", "CRITICAL", "load=1;5;10".
    base = ["--url", "http://127.0.0.1:9/", *argv]
    _, with_secret = run(*base, "--password", secret)
    _, without = run(*base, "--password", "Zz-never-shown")
    assert _without_duration(with_secret) == _without_duration(without).replace(
        "Zz-never-shown", "<hidden>"
    )


def test_the_state_word_stays_whatever_the_secret() -> None:
    code, out = run("--password", "CRITICAL", "--load", "20")
    assert (code, out) == (2, "LEAKY CRITICAL - load is 20 (outside range 0:10) | load=20;5;10\n")


@pytest.mark.parametrize(
    ("text", "hidden", "shown"),
    [
        ("cannot log in with s3cr3t-value", ["s3cr3t-value"], "cannot log in with <hidden>"),
        ("KeyError: 's3cr3t'", ["s3cr3t"], "KeyError: '<hidden>'"),
        (
            "xs3cr3t-value s3cr3t-valuex s3cr3t-value.",
            ["s3cr3t-value"],
            "xs3cr3t-value s3cr3t-valuex <hidden>.",
        ),
        (
            "127.0.0.1 load is 1, '1' password=1 range 0:1 password: 1 1",
            ["1"],
            "127.0.0.1 load is 1, '<hidden>' password=<hidden> range 0:1 password: <hidden> 1",
        ),
        ('x "ab" ab=ab', ["ab"], 'x "<hidden>" ab=<hidden>'),
        ("x abcdef y abcd", ["abcd", "abcdef"], "x <hidden> y <hidden>"),
        ("p@ss! and (p@ss)", ["p@ss"], "<hidden>! and (<hidden>)"),
        ("u:p4ss@h", ["p4ss"], "u:<hidden>@h"),
        (
            "rabbit://u:a,b@h1:5672,u:c@h2/ mysql://n:p@ss@db",
            [],
            "rabbit://u:<hidden>@h1:5672,u:<hidden>@h2/ mysql://n:<hidden>@db",
        ),
        (
            "é http://u:pässwörd@h/ é redis://:r3d@c",
            [],
            "é http://u:<hidden>@h/ é redis://:<hidden>@c",
        ),
        (
            "qemu+ssh://nova@cmp/system http://h:80/x?a=b@c",
            [],
            "qemu+ssh://nova@cmp/system http://h:80/x?a=b@c",
        ),
        ("nothing here", ["absent"], "nothing here"),
    ],
)
def test_hide(text: str, hidden: list[str], shown: str) -> None:
    assert hide(text, hidden) == shown


def test_hide_result_keeps_what_holds_nothing() -> None:
    result = runner.failure("x", CheckError("plain"))
    assert hide_result(result, ["other"]) is result
    hidden = hide_result(runner.failure("x", CheckError(f"at {URL}")), [])
    assert hidden.summary == f"at {SHOWN}" and hidden.state == result.state


def test_secrets_of() -> None:
    options = {"url": URL, "password": "Opt-Pw-7", "load": 1.0, "fail": None}
    assert secrets_of(Leaky, options) == ["Opt-Pw-7", "Url-Pw-9"]
    assert secrets_of(Leaky, {"url": [URL, "redis://:Ab@c"], "password": 12345}) == [
        "Url-Pw-9",
        "12345",
        "Ab",
    ]
    # A suite entry whose check did not load: its options are judged by their names.
    raw = {"os-password": "Raw-Pw", "api_token": "T0k", "url": URL, "name": "Not-Secret"}
    assert secrets_of(None, raw) == ["Url-Pw-9", "Raw-Pw", "T0k"]
    assert url_passwords("a b://u:1@h c://:2@h") == ["1", "2"]


def test_suite_results_show_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        f"""
checks:
  - {{check: leaky, name: quoting, options: {{url: "{URL}", password: Opt-Pw-7, fail: quote}}}}
  - {{check: leaky, name: fine, options: {{url: "{URL}", password: "1"}}}}
  - {{check: leaky, name: bad, options: {{url: "{URL}", password: Opt-Pw-7, colour: red}}}}
"""
    )
    results = suite.run(suite.load(str(path)), load=lambda name: Leaky)
    text = repr([(r.summary, r.details) for r in results])
    assert "Url-Pw-9" not in text and "Opt-Pw-7" not in text
    assert results[0].summary == f"cannot log in to {SHOWN} with password '<hidden>'"
    assert results[1].details == (f"asked {SHOWN} as 127.0.0.1 user 1 with password=<hidden>",)
    assert results[2].summary.startswith("suite.yaml") or "colour" in results[2].summary


def test_haproxy_url_password_in_every_output(tmp_path: Path) -> None:
    url = "http://admin:S3cretPW@127.0.0.1:9/"
    proc = run_osops("check", "run", "haproxy", "--url", url, "-t", "3")
    assert proc.returncode == 3
    assert proc.stdout.startswith(
        "HAPROXY UNKNOWN - stats page http://admin:<hidden>@127.0.0.1:9/"
    )
    proc = run_osops("check", "run", "haproxy", "--url", url, "-vvv", "--output-format", "json")
    assert "S3cretPW" not in proc.stdout + proc.stderr and "Traceback" in proc.stdout
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        f"""
checks:
  - {{check: haproxy, name: lb, options: {{url: "{url}", username: admin, password: Pw-Opt-3}}}}
  - {{check: haproxy, name: lb2, options: {{url: "{url}", timeout: "x"}}}}
  - {{check: no_such_check, name: gone, options: {{url: "{url}", password: Pw-Opt-3}}}}
"""
    )
    (tmp_path / "prom").mkdir()
    outputs = []
    for fmt in ("table", "json", "value"):
        proc = run_osops(
            "check",
            "suite",
            str(suite_file),
            "-f",
            fmt,
            "--junit",
            str(tmp_path / "junit.xml"),
            "--save",
            str(tmp_path / "saved.json"),
            "--prometheus-textfile",
            str(tmp_path / "prom"),
        )
        assert proc.returncode == 3, proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    outputs.append((tmp_path / "junit.xml").read_text())
    outputs.append((tmp_path / "saved.json").read_text())
    outputs += [p.read_text() for p in (tmp_path / "prom").iterdir()]
    for text in outputs:
        assert "S3cretPW" not in text and "Pw-Opt-3" not in text
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved[0]["summary"].startswith("stats page http://admin:<hidden>@127.0.0.1:9/")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert "admin:<hidden>@" in root[0][0].get("message", "")
