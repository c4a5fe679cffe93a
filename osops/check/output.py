"""Render a check result as Nagios plugin output, JSON or Prometheus exposition text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from osops.check.result import CheckResult, PerfValue

FORMATS = ("nagios", "json", "prometheus")


def render(result: CheckResult, fmt: str, verbose: int = 0) -> str:
    """The text to print for one result; always ends with a newline."""
    if fmt == "json":
        import json  # only this format pays for it

        return json.dumps(as_dict(result), sort_keys=True) + "\n"
    if fmt == "prometheus":
        return prometheus(result)
    return nagios(result, verbose)


def _clean(text: str) -> str:
    # A '|' would start perfdata early and a newline would end the status line.
    return _controls(text.replace("|", "!").replace("\n", " ").strip())


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _controls(text: str) -> str:
    """Control characters escaped: a NUL from a server ends a C string in Icinga."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _number(value: float | None) -> str:
    """A number as Nagios perfdata reads it: positional, never ``8e-06``.

    Nagios, Icinga and PNP read perfdata values with strtod-like parsers that
    many graphers and older add-ons get wrong on exponents; the digits are
    the shortest that give the value back.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if "e" in text or "E" in text:
        import decimal  # only an exponent pays for it

        text = format(decimal.Decimal(text), "f")
    return text


def perfdata_item(perf: PerfValue) -> str:
    """One ``'label'=value[UOM];[warn];[crit];[min];[max]`` item."""
    label = perf.label
    if re.search(r"[\s'=]", label):
        label = "'" + label.replace("'", "''") + "'"
    fields = [
        f"{_number(perf.value)}{perf.uom}",
        perf.warning or "",
        perf.critical or "",
        _number(perf.min),
        _number(perf.max),
    ]
    return f"{label}=" + ";".join(fields).rstrip(";")


def nagios(result: CheckResult, verbose: int = 0) -> str:
    """Status line with perfdata, then long output when verbose."""
    line = f"{result.name.upper()} {result.state.name}"
    summary = _clean(result.summary)
    if summary:
        line += f" - {summary}"
    if result.perfdata:
        line += " | " + " ".join(perfdata_item(p) for p in result.perfdata)
    lines = [line]
    if verbose:
        lines.extend(_controls(detail.replace("|", "!")) for detail in result.details)
    return "\n".join(lines) + "\n"


def as_dict(result: CheckResult) -> dict[str, object]:
    """The result as plain data for JSON and YAML consumers."""
    return {
        "check": result.name,
        "plugin": result.check or result.name,
        "state": result.state.name,
        "exit_code": result.exit_code,
        "summary": result.summary,
        "perfdata": [
            {
                "label": p.base_label,
                "instance": p.instance,
                "value": p.value,
                "uom": p.uom,
                "warning": p.warning,
                "critical": p.critical,
                "min": p.min,
                "max": p.max,
            }
            for p in result.perfdata
        ],
        "details": list(result.details),
        "duration_seconds": round(result.duration, 6),
    }


_UNIT_SUFFIX = {
    "s": ("_seconds", 1.0),
    "ms": ("_seconds", 0.001),
    "us": ("_seconds", 0.000001),
    "%": ("_percent", 1.0),
    "B": ("_bytes", 1.0),
    "KB": ("_bytes", 1024.0),
    "MB": ("_bytes", 1024.0**2),
    "GB": ("_bytes", 1024.0**3),
    "TB": ("_bytes", 1024.0**4),
    "c": ("_total", 1.0),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_name(check: str, label: str, uom: str) -> str:
    """``osops_<check>_<label><unit suffix>``, in base units as Prometheus expects."""
    suffix = _UNIT_SUFFIX.get(uom, ("", 1.0))[0]
    name = re.sub(r"[^a-zA-Z0-9_]", "_", f"osops_{check}_{label}")
    return name if name.endswith(suffix) else name + suffix


def prometheus(result: CheckResult) -> str:
    """Prometheus text exposition of one result."""
    return prometheus_many([result])


def prometheus_many(results: Sequence[CheckResult]) -> str:
    """Prometheus text exposition: state, duration and one gauge per perfdata item.

    Every metric family appears once with its TYPE line, whatever the number of
    results, as node_exporter's textfile collector requires. Labels: ``check``
    (the plugin), ``name`` (the suite entry or the check) and ``item`` for
    per-item metrics.
    """
    families: dict[str, list[str]] = {
        "osops_check_state": [
            "# HELP osops_check_state Nagios state of an osops check (0 OK .. 3 UNKNOWN).",
            "# TYPE osops_check_state gauge",
        ],
        "osops_check_duration_seconds": [
            "# HELP osops_check_duration_seconds Time an osops check took.",
            "# TYPE osops_check_duration_seconds gauge",
        ],
    }
    for result in results:
        plugin = result.check or result.name
        base = f'check="{_escape(plugin)}",name="{_escape(result.name)}"'
        families["osops_check_state"].append(f"osops_check_state{{{base}}} {result.exit_code}")
        families["osops_check_duration_seconds"].append(
            f"osops_check_duration_seconds{{{base}}} {result.duration:.6f}"
        )
        for perf in result.perfdata:
            name = prometheus_name(plugin, perf.base_label, perf.uom)
            scale = _UNIT_SUFFIX.get(perf.uom, ("", 1.0))[1]
            labels = base + (
                f',item="{_escape(perf.instance)}"' if perf.instance is not None else ""
            )
            family = families.setdefault(name, [f"# TYPE {name} gauge"])
            family.append(f"{name}{{{labels}}} {perf.value * scale:g}")
    return "\n".join(line for lines in families.values() for line in lines) + "\n"
