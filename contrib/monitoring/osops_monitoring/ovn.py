"""The ovn_cluster check: an OVN Northbound or Southbound raft member's view of its cluster."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile

from osops.check.base import Argument, Check, Detail, Perf, State, metric
from osops.exceptions import CheckError, ServiceDown
from osops_monitoring import command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    import nagiosplugin

#: --database: the raft database's name, and its control socket where Debian's ovn-ctl puts it.
DATABASES = {
    "nb": ("OVN_Northbound", "/var/run/ovn/ovnnb_db.ctl"),
    "sb": ("OVN_Southbound", "/var/run/ovn/ovnsb_db.ctl"),
}
_SERVER = re.compile(r"^\s+([0-9a-f]{4,}) \(([0-9a-f]{4,}) at (\S+)\)(.*)$")
_CONNECTION = re.compile(r"^(\()?(->|<-)([0-9a-f]{4,})\)?$")


class Member:
    """One server of the cluster as this member lists it."""

    __slots__ = ("address", "connected", "self", "sid")

    def __init__(self, sid: str, address: str, is_self: bool) -> None:
        self.sid = sid
        self.address = address
        self.self = is_self
        self.connected = is_self


class ClusterStatus:
    """What ``ovs-appctl cluster/status DB`` says, the fields this check reads."""

    __slots__ = (
        "cid",
        "connections",
        "leader",
        "members",
        "role",
        "sid",
        "status",
        "term",
        "uncommitted",
        "unapplied",
    )

    def __init__(self) -> None:
        self.cid = ""
        self.sid = ""
        self.status = ""
        self.role = ""
        self.term = 0
        self.leader = ""
        self.uncommitted = 0
        self.unapplied = 0
        self.connections = 0
        self.members: list[Member] = []

    @property
    def disconnected(self) -> list[Member]:
        return [m for m in self.members if not m.connected]


def parse_status(text: str) -> ClusterStatus:
    """Read ``cluster/status``: role, term, leader, members and this member's connections.

    A member counts as connected when a raft connection to or from it is up
    (listed without parentheses on the ``Connections:`` line).

    :raises CheckError: the text is not a cluster/status answer
    """
    status = ClusterStatus()
    fields: dict[str, str] = {}
    lines = text.splitlines()
    in_servers = False
    up: set[str] = set()
    for line in lines:
        if in_servers:
            found = _SERVER.match(line)
            if found:
                short, _full, address, rest = found.groups()
                status.members.append(Member(short, address, "(self)" in rest))
                continue
            in_servers = False
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Servers":
            in_servers = True
            continue
        fields[key] = value
    if "Term" not in fields or "Role" not in fields:
        raise CheckError("cluster/status answered without a role and a term")
    try:
        status.term = int(fields["Term"])
        status.uncommitted = int(fields.get("Entries not yet committed", "0"))
        status.unapplied = int(fields.get("Entries not yet applied", "0"))
    except ValueError as exc:
        raise CheckError(f"cluster/status: {exc}") from None
    status.cid = fields.get("Cluster ID", "").split(" ")[0]
    status.sid = fields.get("Server ID", "").split(" ")[0]
    status.status = fields.get("Status", "")
    status.role = fields["Role"]
    leader = fields.get("Leader", "unknown")
    status.leader = status.sid if leader == "self" else ("" if leader == "unknown" else leader)
    for item in fields.get("Connections", "").split():
        connection = _CONNECTION.match(item)
        if connection and not connection.group(1):  # "(->sid)": still trying
            status.connections += 1
            up.add(connection.group(3))
    for member in status.members:
        member.connected = member.self or member.sid in up
    return status


class OvnCluster(Check):
    """Check one member of an OVN Northbound or Southbound raft cluster from its host.

    Reads ``ovs-appctl cluster/status`` and ``memory/show`` over the member's
    control socket: whether a leader is known (none is CRITICAL: no quorum,
    no writes), members this one has no raft connection with (WARNING), the
    raft term and how many elections happened since the last run (kept in
    ``--state-dir``: a leader change is WARNING, more than two an election
    storm, CRITICAL), log entries not yet committed or applied, and the
    database's client sessions. An ovsdb-server that is not running is CRITICAL.
    """

    service = "ovn"
    runs_on = "host"
    arguments = (
        Argument(
            "database",
            "nb (OVN_Northbound) or sb (OVN_Southbound).",
            choices=tuple(DATABASES),
            required=True,
        ),
        Argument(
            "ctl-socket",
            "ovsdb-server's control socket (default: /var/run/ovn/ovnnb_db.ctl or ovnsb_db.ctl).",
        ),
        Argument(
            "state-dir",
            "Directory of the term seen last (default: $XDG_RUNTIME_DIR, else /var/tmp).",
        ),
    )
    perfdata = (
        Perf(
            "leader",
            "1 when this member knows a leader (the cluster has quorum), else 0.",
            min=0,
            max=1,
            critical="1:",
            fmt="leader known {value}",
        ),
        Perf(
            "disconnected",
            "Other members this one has no raft connection with.",
            min=0,
            warning="0",
            fmt="{value} members disconnected",
        ),
        Perf("members", "Servers in the cluster's configuration.", min=0),
        Perf(
            "elections",
            "Raft term increase since the previous run (elections held).",
            min=0,
            warning="0",
            critical="2",
            fmt="{value} elections since the last run",
        ),
        Perf("term", "Raft term.", uom="c", min=0),
        Perf("uncommitted", "Log entries not yet committed.", min=0),
        Perf("unapplied", "Log entries not yet applied.", min=0),
        Perf("connections", "Raft connections up, in and out.", min=0),
        Perf("sessions", "Client sessions (northd, controllers, Neutron) on this server.", min=0),
    )
    primary = "disconnected"

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        name, default_ctl = DATABASES[self.options["database"]]
        ctl = self.options["ctl_socket"] or default_ctl
        status = parse_status(self._appctl(ctl, "cluster/status", name))
        memory = self._appctl(ctl, "memory/show")
        sessions = _memory_field(memory, "sessions")
        elections, remembered = self._elections(name, status)
        yield metric("leader", 1 if status.leader else 0)
        yield metric("disconnected", len(status.disconnected)).replace(max=len(status.members))
        yield metric("members", len(status.members))
        yield metric("elections", elections)
        yield metric("term", status.term)
        yield metric("uncommitted", status.uncommitted)
        yield metric("unapplied", status.unapplied)
        yield metric("connections", status.connections)
        yield metric("sessions", sessions)
        if not status.leader:
            yield Detail(
                f"{name}: no leader known ({status.role} in term {status.term}, "
                f"{status.status or 'status unknown'})",
                label="leader",
            )
        if status.disconnected:
            gone = ", ".join(f"{m.sid} at {m.address}" for m in status.disconnected)
            yield Detail(
                f"{name}: {len(status.disconnected)} of {len(status.members)} members "
                f"disconnected: {gone}",
                label="disconnected",
            )
        if elections:
            yield Detail(
                f"{elections} elections since the last run (term {status.term - elections} "
                f"to {status.term})",
                label="elections",
            )
        if not remembered:
            yield Detail("no term remembered from a previous run: elections not counted")
        who = (
            f"{status.sid} is the leader"
            if status.leader == status.sid
            else f"{status.role} {status.sid}, leader {status.leader or 'unknown'}"
        )
        connected = len(status.members) - len(status.disconnected)
        yield Detail(
            f"{name}: {who}, term {status.term}, {connected} of {len(status.members)} "
            "members connected",
            State.OK,
        )

    def _appctl(self, ctl: str, *args: str) -> str:
        # --timeout: ovs-appctl's own deadline, so it never outlives the check.
        seconds = max(1, int(self.timeout))
        done = command.run(["ovs-appctl", f"--timeout={seconds}", "-t", ctl, *args], self.timeout)
        if done.code == 0:
            return done.out
        reason = done.reason()
        if "cannot connect" in reason or "No such file" in reason:
            raise ServiceDown(f"ovsdb-server is not running: {ctl}: {_after_colon(reason)}")
        raise CheckError(f"ovs-appctl {args[0]} at {ctl}: {reason}")

    def _elections(self, name: str, status: ClusterStatus) -> tuple[int, bool]:
        """Term increase since the run before, from a small file per member; (0, False)
        on the first run, when the cluster was made anew, or when the file cannot be kept."""
        where = self.options["state_dir"] or os.environ.get("XDG_RUNTIME_DIR") or "/var/tmp"  # noqa: S108
        path = os.path.join(where, f"osops-ovn_cluster-{name}-{status.sid}.json")
        before: dict[str, object] = {}
        try:
            with open(path) as fh:
                data = json.load(fh)
            if isinstance(data, dict):
                before = data
        except (OSError, ValueError):
            pass
        try:
            fd, temporary = tempfile.mkstemp(prefix=".osops-ovn-", dir=where)
        except OSError:
            return 0, False
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump({"cid": status.cid, "term": status.term}, fh)
            os.replace(temporary, path)  # a rename: a symlink there is replaced, not followed
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return 0, False
        term = before.get("term")
        if before.get("cid") != status.cid or not isinstance(term, int) or term > status.term:
            return 0, False
        return status.term - term, True


def _memory_field(text: str, key: str) -> int:
    """One ``key:N`` of ``memory/show`` (absent when zero)."""
    found = re.search(rf"(?:^|\s){re.escape(key)}:(\d+)", text)
    return int(found.group(1)) if found else 0


def _after_colon(reason: str) -> str:
    # 'ovs-appctl: cannot connect to "/x.ctl" (Connection refused)': the cause in parentheses.
    found = re.search(r"\(([^()]*)\)\s*$", reason)
    return found.group(1) if found else reason
