"""The audit's findings: their kinds, their rows and the words of their details."""

from __future__ import annotations

from typing import Any

from osops_upgrade.releases import Key, Options, normalized

#: Every kind of finding, in the order a report lists them.
FINDINGS = (
    "removed",
    "unknown",
    "value-removed",
    "invalid",
    "renamed",
    "deprecated",
    "default-changed",
)
#: Findings that make the audit fail (exit 1, CRITICAL); the rest are advice.
FAILING = frozenset({"removed", "unknown", "value-removed", "invalid"})
COLUMNS = ("section", "option", "finding", "detail", "release")


class Finding:
    """One row of the audit."""

    __slots__ = COLUMNS

    def __init__(self, section: str, option: str, finding: str, detail: str, release: str) -> None:
        self.section = section
        self.option = option
        self.finding = finding
        self.detail = detail
        self.release = release

    def row(self) -> tuple[str, str, str, str, str]:
        return (self.section, self.option, self.finding, self.detail, self.release)

    def __repr__(self) -> str:
        return f"Finding{self.row()!r}"


def change(old: Any, new: Any) -> str:
    """A changed default: both values, or for lists what went and what came."""
    before, after = normalized(old), normalized(new)
    if isinstance(before, list) and isinstance(after, list) and len(before) + len(after) > 6:
        gone = [v for v in before if v not in after]
        came = [v for v in after if v not in before]
        parts = [f"-{v}" for v in gone] + [f"+{v}" for v in came]
        return " ".join(parts) if parts else "reordered"
    return f"{show(old)} -> {show(new)}"


def show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(empty)"
    text = str(value)
    return text if text else "(empty)"


def deprecation(info: dict[str, Any]) -> str:
    since = info.get("deprecated_since")
    reason = info.get("deprecated_reason") or "no reason given"
    return f"since {since}: {reason}" if since else f"deprecated for removal: {reason}"


def removal(last: Options, key: Key, target: Options) -> str:
    detail = f"last in {last.release.series}"
    new = last.aliases.get(key)
    if new is not None:
        # An old name of an option that is itself gone or renamed again.
        if new in target.options:
            return f"{detail}; replacement [{new[0]}] {new[1]}"
        moved = target.aliases.get(new)
        if moved is not None:
            return f"{detail}; replacement [{moved[0]}] {moved[1]}"
        return f"{detail} as an old name of [{new[0]}] {new[1]}, removed too"
    info = last.options.get(key, {})
    if info.get("deprecated_for_removal"):
        return f"{detail}; {deprecation(info)}"
    return detail
