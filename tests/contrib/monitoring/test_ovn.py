"""The ovn_cluster check against real three-member OVN NB and SB raft clusters (ovsdb-server)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_osops
from servers import wait_until
from support import ovn

from osops_monitoring.ovn import OvnCluster, parse_status

pytestmark = pytest.mark.integration
PERF = re.compile(r"(\S+?)=([-\d.]+)(\S*?)(?:;|\s|$)")


@pytest.fixture(params=["nb", "sb"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ovn.Cluster]:
    """A fresh cluster for each test: tests kill its members."""
    with ovn.running(tmp_path, request.param) as made:
        yield made


def check(cluster: ovn.Cluster, server: ovn.Server, *args: str) -> Any:
    return run_osops(
        "check",
        "run",
        "ovn_cluster",
        "--database",
        cluster.database,
        "--ctl-socket",
        str(server.ctl),
        "--state-dir",
        str(cluster.where),
        *args,
    )


def perfdata(stdout: str) -> dict[str, str]:
    return {label: value for label, value, _ in PERF.findall(stdout.partition(" | ")[2])}


def test_healthy_cluster_from_every_member(cluster: ovn.Cluster) -> None:
    leader = cluster.leader()
    for server in cluster.servers:
        proc = check(cluster, server)
        assert proc.returncode == 0, proc.stdout
        sid = cluster.sid(server)
        who = (
            f"{sid} is the leader"
            if server is leader
            else f"follower {sid}, leader {cluster.sid(leader)}"
        )
        assert proc.stdout.startswith(
            f"OVN_CLUSTER OK - {cluster.name}: {who}, term 1, 3 of 3 members connected | "
        ), proc.stdout
        emitted = {label: unit for label, _, unit in PERF.findall(proc.stdout.partition(" | ")[2])}
        assert emitted == {p.label: p.uom for p in OvnCluster.perfdata}  # both ways
        values = perfdata(proc.stdout)
        assert (values["leader"], values["disconnected"], values["members"]) == ("1", "0", "3")
        assert (values["elections"], values["term"], values["connections"]) == ("0", "1", "4")


def test_client_sessions_counted(cluster: ovn.Cluster) -> None:
    server = cluster.servers[0]
    with subprocess.Popen(
        ["ovsdb-client", "monitor", f"tcp:127.0.0.1:{server.client}", cluster.name, "ALL"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as client:
        try:
            wait_until(
                lambda: perfdata(check(cluster, server).stdout)["sessions"] == "1",
                20,
                "the monitor's session",
            )
        finally:
            client.kill()


def test_member_killed(cluster: ovn.Cluster) -> None:
    leader = cluster.leader()
    gone, survivor = cluster.followers()
    sid = cluster.sid(gone)
    gone.kill()
    wait_until(lambda: f"(->{sid})" in leader.status(cluster.name), 20, "leader")
    wait_until(lambda: f"(->{sid})" in survivor.status(cluster.name), 20, "other")
    for server in (leader, survivor):
        proc = check(cluster, server)
        assert proc.returncode == 1, proc.stdout
        assert proc.stdout.startswith(
            f"OVN_CLUSTER WARNING - {cluster.name}: 1 of 3 members disconnected: "
            f"{sid} at {gone.raft_address} | "
        ), proc.stdout
        assert perfdata(proc.stdout)["leader"] == "1"
    proc = check(cluster, gone)
    assert (proc.returncode, proc.stdout) == (
        2,
        f"OVN_CLUSTER CRITICAL - ovsdb-server is not running: {gone.ctl}: Connection refused\n",
    )


def test_leader_killed_counts_the_election(cluster: ovn.Cluster) -> None:
    leader = cluster.leader()
    followers = cluster.followers()
    for server in followers:  # the term seen before, remembered in --state-dir
        assert check(cluster, server).returncode == 0
    old = cluster.sid(leader)
    leader.kill()
    wait_until(
        lambda: any(cluster.field(s, "Role") == "leader" for s in followers), 30, "a new leader"
    )
    new = cluster.leader()
    term = int(cluster.field(new, "Term"))
    assert term >= 2
    for server in followers:
        proc = check(cluster, server)
        assert proc.returncode == (2 if term > 3 else 1), proc.stdout
        values = perfdata(proc.stdout)
        assert values["elections"] == str(term - 1)
        assert (values["leader"], values["disconnected"]) == ("1", "1")
        if term == 2:  # one election, as a rule; a split vote takes more
            assert proc.stdout.startswith(
                f"OVN_CLUSTER WARNING - {cluster.name}: 1 of 3 members disconnected: {old} at "
                f"{leader.raft_address}, 1 elections since the last run (term 1 to 2) | "
            ), proc.stdout
        # Counted once: the next run starts from the new term.
        again = check(cluster, server)
        assert perfdata(again.stdout)["elections"] == "0", again.stdout


def test_no_quorum_is_critical(cluster: ovn.Cluster) -> None:
    leader = cluster.leader()
    first, second = cluster.followers()
    leader.kill()
    second.kill()
    wait_until(lambda: cluster.field(first, "Leader") == "unknown", 30, "leader lost")
    proc = check(cluster, first)
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith(f"OVN_CLUSTER CRITICAL - {cluster.name}: no leader known ("), (
        proc.stdout
    )
    values = perfdata(proc.stdout)
    assert (values["leader"], values["disconnected"]) == ("0", "2")


def test_not_a_socket_of_ovsdb(tmp_path: Path) -> None:
    proc = run_osops(
        "check", "run", "ovn_cluster", "--database", "nb", "--ctl-socket", str(tmp_path / "x.ctl")
    )
    assert proc.returncode == 2
    assert proc.stdout == (
        f"OVN_CLUSTER CRITICAL - ovsdb-server is not running: {tmp_path}/x.ctl: "
        "No such file or directory\n"
    )


CANDIDATE = """\
f964
Name: OVN_Northbound
Cluster ID: 48f4 (48f46abb-1c8e-4a6e-bd68-8f57d282e9de)
Server ID: f964 (f9647684-30ed-4796-bd0b-9eaa1b78a367)
Address: tcp:127.0.0.1:16643
Status: cluster member
Role: candidate
Term: 3
Leader: unknown
Vote: self

Last Election started 745 ms ago, reason: timeout
Election timer: 1000
Log: [2, 6]
Entries not yet committed: 1
Entries not yet applied: 2
Connections: (->bbd2) (->0a11)
Disconnections: 1
Servers:
    f964 (f964 at tcp:127.0.0.1:16643) (self) (voted for f964)
    bbd2 (bbd2 at tcp:127.0.0.1:16642) last msg 3098 ms ago
    0a11 (0a11 at tcp:127.0.0.1:16641) last msg 6330 ms ago
"""
FOLLOWER = """\
bbd2
Name: OVN_Northbound
Cluster ID: 48f4 (48f46abb-1c8e-4a6e-bd68-8f57d282e9de)
Server ID: bbd2 (bbd2bcad-d553-474d-be6a-e2b13352fdd0)
Address: tcp:127.0.0.1:16642
Status: cluster member
Role: follower
Term: 1
Leader: 0a11
Vote: unknown

Election timer: 1000
Log: [2, 5]
Entries not yet committed: 0
Entries not yet applied: 0
Connections: ->0000 <-0a11 (->f964)
Disconnections: 1
Servers:
    f964 (f964 at tcp:127.0.0.1:16643)
    bbd2 (bbd2 at tcp:127.0.0.1:16642) (self)
    0a11 (0a11 at tcp:127.0.0.1:16641) last msg 61 ms ago
"""


def test_parse_recorded_answers() -> None:
    """Answers recorded from ovsdb-server 3.1 (Debian 12): a candidate without quorum, a
    follower whose outgoing connection to the leader is not named yet (->0000)."""
    candidate = parse_status(CANDIDATE)
    assert (candidate.role, candidate.term, candidate.leader) == ("candidate", 3, "")
    assert (candidate.cid, candidate.sid, candidate.connections) == ("48f4", "f964", 0)
    assert (candidate.uncommitted, candidate.unapplied) == (1, 2)
    assert [m.sid for m in candidate.disconnected] == ["bbd2", "0a11"]
    follower = parse_status(FOLLOWER)
    assert (follower.leader, follower.connections) == ("0a11", 2)
    assert [(m.sid, m.address) for m in follower.disconnected] == [("f964", "tcp:127.0.0.1:16643")]
    assert [m.sid for m in follower.members if m.self] == ["bbd2"]
