"""The chrony check: this host's clock offset, stratum and reachable time sources, from chronyd."""

from __future__ import annotations

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown
from osops_monitoring import command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin

#: ``chronyc -c sources`` columns: mode, state, name, stratum, poll, reach (octal), ...
_MODES = {"^": "server", "=": "peer", "#": "refclock"}
_TRACKING_FIELDS = 14
_SOURCE_FIELDS = 10


class Source:
    """One time source as chronyc lists it."""

    __slots__ = ("mode", "name", "reach", "state")

    def __init__(self, mode: str, state: str, name: str, reach: int) -> None:
        self.mode = mode
        self.state = state
        self.name = name
        self.reach = reach


class Tracking:
    """``chronyc -c tracking``: the reference, stratum, the system clock's offset, leap."""

    __slots__ = ("leap", "name", "offset", "reference", "stratum")

    def __init__(self, fields: list[str]) -> None:
        try:
            self.reference = fields[0]
            self.name = fields[1]
            self.stratum = int(fields[2])
            # "System time": positive when the clock is behind true time (slow).
            self.offset = float(fields[4])
            self.leap = fields[13]
        except (IndexError, ValueError) as exc:
            raise CheckError(f"chronyc tracking: unexpected answer ({exc})") from None


def parse(text: str) -> tuple[Tracking, list[Source]]:
    """``chronyc -n -c -m tracking sources``: one tracking line, then one line per source.

    :raises CheckError: anything else
    """
    lines = [line.split(",") for line in text.splitlines() if line.strip()]
    if not lines or len(lines[0]) != _TRACKING_FIELDS:
        raise CheckError("chronyc answered without its tracking line")
    tracking = Tracking(lines[0])
    sources = []
    for fields in lines[1:]:
        if len(fields) != _SOURCE_FIELDS:
            raise CheckError(f"chronyc sources: unexpected line {','.join(fields)[:80]!r}")
        try:
            reach = int(fields[5], 8)
        except ValueError:
            raise CheckError(f"chronyc sources: reach {fields[5]!r} is not octal") from None
        sources.append(Source(fields[0], fields[1], fields[2], reach))
    return tracking, sources


class Chrony(Check):
    """Check this host's clock through chronyd: offset from true time, stratum, sources reached.

    Asks chronyd over its command socket or port (``chronyc -n -c tracking
    sources``; monitoring commands need no key from 127.0.0.1). An offset above
    0.1 s is WARNING, above 1 s CRITICAL (Ceph monitors complain from 0.05 s,
    Galera and Keystone tokens need seconds); a clock not synchronised (stratum 0)
    or with no source reachable is CRITICAL; a chronyd that does not answer is
    CRITICAL.
    """

    service = "chrony"
    runs_on = "host"
    arguments = (
        Argument(
            "host",
            "chronyd's command address or unix socket (default: chronyc's, "
            "/run/chrony/chronyd.sock then 127.0.0.1 and ::1).",
        ),
        Argument("port", "chronyd's command port (cmdport).", type="int", min=1, max=65535),
    )
    perfdata = (
        Perf(
            "offset",
            "How far the system clock is from true time (either way), as chronyd estimates it.",
            uom="s",
            min=0,
            warning="0.1",
            critical="1",
            fmt="offset {value:.6f}s",
        ),
        Perf(
            "stratum",
            "NTP stratum of this host; 0 when not synchronised.",
            min=0,
            max=16,
            critical="1:15",
            fmt="stratum {value}",
        ),
        Perf(
            "sources_reachable",
            "Sources that answered at least one of the last 8 polls.",
            min=0,
            critical="1:",
            fmt="{value} sources reachable",
        ),
        Perf("sources", "Sources configured (servers, peers, reference clocks).", min=0),
    )
    primary = "offset"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        argv = ["chronyc", "-n", "-c"]
        where = self.options["host"] or "chronyc's default address"
        if self.options["host"]:
            argv += ["-h", self.options["host"]]
        if self.options["port"]:
            argv += ["-p", str(self.options["port"])]
            where += f" port {self.options['port']}"
        done = command.run([*argv, "-m", "tracking", "sources"], self.timeout)
        if done.code != 0:
            reason = done.reason()
            if "Cannot talk to daemon" in reason or "Could not open connection" in reason:
                raise ServiceDown(f"chronyd at {where} does not answer ({reason})")
            raise CheckError(f"chronyc at {where}: {reason}")
        tracking, sources = parse(done.out)
        reachable = [s for s in sources if s.reach]
        yield metric("offset", abs(tracking.offset))
        yield metric("stratum", tracking.stratum)
        yield metric("sources_reachable", len(reachable)).replace(max=len(sources))
        yield metric("sources", len(sources))
        direction = "slow" if tracking.offset > 0 else "fast"
        yield Detail(f"clock {abs(tracking.offset):.6f}s {direction} of true time", label="offset")
        if tracking.stratum == 0 or tracking.leap == "Not synchronised":
            yield Detail(f"not synchronised ({tracking.leap})", label="stratum")
        if not reachable:
            names = ", ".join(s.name for s in sources) or "none configured"
            yield Detail(
                f"no source reachable of {len(sources)} ({names})", label="sources_reachable"
            )
        for source in sources:
            yield Detail(
                f"{_MODES.get(source.mode, source.mode)} {source.name}: state {source.state}, "
                f"reach {source.reach:03o}"
            )
        reference = tracking.name or tracking.reference
        yield Detail(
            f"offset {abs(tracking.offset):.6f}s {direction}, stratum {tracking.stratum} "
            f"from {reference}, {len(reachable)} of {len(sources)} sources reachable",
            State.OK,
        )
