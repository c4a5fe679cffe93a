"""The upgrade_status check: ``<service>-status upgrade check``, the service's own verdict."""

from __future__ import annotations

import json
import os
import re
import subprocess

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import nagiosplugin

#: oslo.upgradecheck's codes and the words of its table.
_RESULTS = {"Success": 0, "Warning": 1, "Failure": 2}
_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


class UpgradeStatus(Check):
    """Run ``<service>-status upgrade check`` and report each warning and failure it finds.

    oslo.upgradecheck's codes: 0 success, 1 warning, 2 failure; 255 (the
    command crashed) or no answer within the timeout is UNKNOWN. The JSON
    output is read where the command gives it (``--json``), the table where
    it does not (nova-status has no ``--json``; some print the table anyway).
    """

    service = "upgrade"
    arguments = (
        Argument(
            "service", "Service whose status command runs: nova, keystone, ...", required=True
        ),
        Argument("command", "Path of the status command (default: <service>-status)."),
        Argument(
            "config-file",
            "Configuration file given to the command as --config-file; repeatable.",
            repeatable=True,
        ),
    )
    perfdata = (
        Perf("failures", "Sub-checks that failed.", min=0, critical="0", fmt="{value} failed"),
        Perf("warnings", "Sub-checks that warned.", min=0, warning="0", fmt="{value} warned"),
        Perf("checks", "Sub-checks the command ran.", min=0, fmt="{value} checks"),
    )
    primary = "failures"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        service = self.options["service"]
        command = self.options["command"] or f"{service}-status"
        argv = [command]
        for path in self.options["config_file"] or ():
            argv += ["--config-file", path]
        argv += ["upgrade", "check"]
        code, out, err = self._run([*argv, "--json"])
        if code == 2 and not out.strip() and "--json" in err:
            code, out, err = self._run(argv)  # a command without --json (nova-status)
        if code not in (0, 1, 2):
            last = (err.strip() or out.strip() or "no output").splitlines()[-1]
            raise CheckError(f"{command} exited {code}: {_scrub(last)[:200]}")
        checks = _parse(out)
        if checks is None:
            raise CheckError(f"{command} exited {code} without a result table")
        failed = [c for c in checks if c[1] == 2]
        warned = [c for c in checks if c[1] == 1]
        yield metric("failures", len(failed))
        yield metric("warnings", len(warned))
        yield metric("checks", len(checks))
        for label, items, word in (("failures", failed, "failed"), ("warnings", warned, "warned")):
            if items:
                names = "; ".join(f"{name}: {details}" for name, _code, details in items)
                yield Detail(f"{len(items)} of {len(checks)} {word}: {_scrub(names)}", label=label)
        for name, result, details in checks:
            word = {0: "Success", 1: "Warning", 2: "Failure"}.get(result, str(result))
            yield Detail(f"{name}: {word}" + (f" ({_scrub(details)})" if details else ""))
        if max((c[1] for c in checks), default=0) != code:
            raise CheckError(f"{command} exited {code} but its table says otherwise")
        yield Detail(f"{os.path.basename(command)}: {len(checks)} checks, exit {code}", State.OK)

    def _run(self, argv: list[str]) -> tuple[int, str, str]:
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except FileNotFoundError:
            raise CheckError(f"{argv[0]}: no such command") from None
        except subprocess.TimeoutExpired:
            raise CheckError(f"{argv[0]} gave no answer within {self.timeout:g}s") from None
        return proc.returncode, proc.stdout, proc.stderr


def _parse(out: str) -> list[tuple[str, int, str]] | None:
    """(name, code, details) of each sub-check, from the JSON or the table."""
    text = out.strip()
    start = text.find("{")
    if start >= 0:
        try:
            document: Any = json.loads(text[start:])
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("checks"), list):
            return [
                (str(c.get("check")), int(c.get("result", 2)), _details(c.get("details")))
                for c in document["checks"]
            ]
    return _table(text)


def _details(value: Any) -> str:
    return "" if value in (None, "None") else " ".join(str(value).split())


#: oslo.upgradecheck wraps each check's Details with textwrap at this width.
_WRAP = 60


def _table(text: str) -> list[tuple[str, int, str]] | None:
    """The prettytable of oslo.upgradecheck: cells of Check, Result and Details lines."""
    checks: list[tuple[str, int, str]] = []
    cell: dict[str, str] = {}
    last = ""

    def close() -> None:
        if "Check" in cell and "Result" in cell:
            result = _RESULTS.get(cell["Result"].strip(), 2)
            checks.append((cell["Check"].strip(), result, _details(cell.get("Details"))))
        cell.clear()

    seen = full = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("+"):
            close()
            continue
        if not line.startswith("|"):
            continue
        wrapped = line[1:-1][1:].rstrip()  # the cell's line as textwrap made it, indent kept
        body = wrapped.strip()
        key, sep, value = body.partition(": ")
        if sep and key in ("Check", "Result", "Details"):
            cell[key] = value
            last = key
            seen = True
            full = len(wrapped) - len("Details: ") >= _WRAP
        elif last == "Details" and body:
            # textwrap drops the space it breaks at, and cuts a word longer than the
            # width (a URL) to fill the line exactly, or after a hyphen.
            joint = "" if full or cell["Details"].endswith("-") else " "
            cell["Details"] = f"{cell['Details']}{joint}{body}"
            full = len(wrapped) >= _WRAP
    close()
    return checks if seen else None


def _scrub(text: str) -> str:
    """Credentials in URLs (database connections, transport URLs) never reach the output."""
    return _CREDENTIALS.sub(r"\1***@", text)
