"""JUnit XML for check suites, so CI/CD pipelines show each check as a test case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from osops.check.base import State
from osops.check.result import CheckResult


def render(suite_name: str, results: Sequence[CheckResult]) -> str:
    """WARNING and CRITICAL are failures, UNKNOWN an error, OK a pass."""
    failures = sum(r.state in (State.WARNING, State.CRITICAL) for r in results)
    errors = sum(r.state == State.UNKNOWN for r in results)
    root = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        time=f"{sum(r.duration for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            root,
            "testcase",
            classname="osops.check",
            name=result.name,
            time=f"{result.duration:.3f}",
        )
        if result.state in (State.WARNING, State.CRITICAL):
            node = ET.SubElement(case, "failure", type=result.state.name, message=result.summary)
            node.text = "\n".join(result.details)
        elif result.state == State.UNKNOWN:
            node = ET.SubElement(case, "error", type="UNKNOWN", message=result.summary)
            node.text = "\n".join(result.details)
        else:
            ET.SubElement(case, "system-out").text = result.summary
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
