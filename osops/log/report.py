"""The text report of ``osops log stats``: its counts, errors and slow calls as tables."""

from __future__ import annotations

from typing import Any


def render(data: dict[str, Any]) -> str:
    """The stats report as plain text tables."""
    lines = [f"{data['records']} records ({data['unparsed']} unparsed)", ""]
    levels = sorted({lvl for counts in data["by_service"].values() for lvl in counts})
    width = max([len(s) for s in data["by_service"]] + [7])
    lines.append("service".ljust(width) + "".join(f"{lvl:>10}" for lvl in levels))
    for service, counts in data["by_service"].items():
        lines.append(service.ljust(width) + "".join(f"{counts.get(lvl, 0):>10}" for lvl in levels))
    lines += ["", "top errors:"]
    for item in data["top_errors"]:
        label = item["error_type"] or f"(logged by {item['logger']})"
        lines.append(f"  {item['count']:>5}  {label}  [{item['service']}] {item['example']}")
    if not data["top_errors"]:
        lines.append("  none")
    lines += [
        "",
        f"slowest API calls ({data['api_requests']} requests, "
        f"{data['api_server_errors']} with 5xx):",
    ]
    for call in data["slowest_api_calls"]:
        lines.append(
            f"  {call['duration_seconds']:>9.3f}s  {call['status']}  {call['method']} "
            f"{call['path']}  [{call['service']}] {call['request_id'] or '-'}"
        )
    if not data["slowest_api_calls"]:
        lines.append("  none")
    deprecations = data.get("deprecations", [])
    lines += ["", f"deprecation warnings logged ({len(deprecations)} distinct):"]
    for item in deprecations:
        lines.append(
            f"  {item['count']:>5}  {item['host'] or '-'} {item['service']} "
            f"[{item['kind']}] {item['message']}"
        )
    if not deprecations:
        lines.append("  none")
    return "\n".join(lines) + "\n"
