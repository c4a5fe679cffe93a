"""The audit as JUnit XML: one test case per option set, a failure per finding."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from osops.exceptions import UsageError
from osops_upgrade.data import Release
from osops_upgrade.findings import FAILING, Finding


def render(service: str, start: Release, target: Release, findings: Sequence[Finding]) -> str:
    """Failing findings are failures; advice (renamed, deprecated, default-changed) is output."""
    failures = [f for f in findings if f.finding in FAILING]
    root = ET.Element(
        "testsuite",
        name=f"osops upgrade audit {service} {start.series} -> {target.series}",
        tests=str(len(findings)),
        failures=str(len(failures)),
        errors="0",
    )
    for finding in findings:
        case = ET.SubElement(
            root,
            "testcase",
            classname=f"upgrade.{service}.{finding.section}",
            name=f"[{finding.section}] {finding.option}: {finding.finding}",
        )
        text = f"{finding.detail} ({finding.release})"
        if finding.finding in FAILING:
            ET.SubElement(case, "failure", type=finding.finding, message=text).text = text
        else:
            ET.SubElement(case, "system-out").text = text
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(
    path: str, service: str, start: Release, target: Release, findings: Sequence[Finding]
) -> None:
    """Write atomically: a CI job never reads half a report."""
    text = render(service, start, target, findings)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".junit-")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"--junit {path}: {exc.strerror}") from None
