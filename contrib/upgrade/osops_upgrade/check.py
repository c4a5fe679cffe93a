"""The upgrade_config check: the configuration audit as Icinga runs it on each controller."""

from __future__ import annotations

from osops.check.base import Argument, Check, Detail, Perf, State, metric

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin

# finding -> (perfdata label, default warning, default critical)
_LABELS = {
    "removed": ("removed", None, "0"),
    "unknown": ("unknown", None, "0"),
    "value-removed": ("value_removed", None, "0"),
    "invalid": ("invalid", None, "0"),
    "renamed": ("renamed", "0", None),
    "deprecated": ("deprecated", "0", None),
    "default-changed": ("default_changed", None, None),
}


class UpgradeConfig(Check):
    """Check a service's configuration against a later release: removed, renamed, deprecated.

    The audit of ``osops upgrade audit``: options removed, unknown (typos),
    values removed or invalid are CRITICAL; options renamed or deprecated for
    removal WARNING; changed defaults are counted. Files are read in
    oslo.config's order (files, then each ``.conf.d`` directory sorted).
    """

    service = "upgrade"
    runs_on = "host"
    arguments = (
        Argument(
            "service",
            "Service whose configuration it is: nova, neutron, cinder, ...",
            required=True,
        ),
        Argument(
            "file",
            "Configuration file or .conf.d directory, in oslo.config's order; repeatable.",
            required=True,
            repeatable=True,
        ),
        Argument("from", "Release the files were written for (default: the oldest known)."),
        Argument("to", "Release to upgrade to, series or version (default: the newest known)."),
    )
    perfdata = tuple(
        Perf(
            label,
            f"Options {finding} in the target release.",
            min=0,
            warning=warning,
            critical=critical,
            fmt=f"{{value}} {finding}",
        )
        for finding, (label, warning, critical) in _LABELS.items()
    )
    primary = "removed"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        from osops_upgrade import audit

        findings, start, target = audit.audit(
            self.options["service"], self.options["file"], self.options["from"], self.options["to"]
        )
        for kind, (label, _warning, _critical) in _LABELS.items():
            found = [f for f in findings if f.finding == kind]
            yield metric(label, len(found))
            if found:
                names = ", ".join(f"[{f.section}] {f.option}" for f in found[:5])
                more = f" and {len(found) - 5} more" if len(found) > 5 else ""
                yield Detail(f"{len(found)} {kind}: {names}{more}", label=label)
        for f in findings:
            yield Detail(f"[{f.section}] {f.option}: {f.finding}, {f.detail} ({f.release})")
        changed = sum(f.finding == "default-changed" for f in findings)
        text = (
            f"{self.options['service']} configuration ready for {target.series} "
            f"({target.version}) from {start.series}"
        )
        yield Detail(text + (f", {changed} defaults changed" if changed else ""), State.OK)
