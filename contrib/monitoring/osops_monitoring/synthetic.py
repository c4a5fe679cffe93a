"""Synthetic probes: create a resource, time each phase, delete it; one copy at a time.

Every resource a probe creates is named ``<prefix><check>-<time>-<random>``. A
probe killed before it could delete (Icinga's SIGKILL at its timeout) leaves
one behind; the next run deletes those older than ``--leftover-minutes`` first
and says so. A probe that cannot delete a leftover is UNKNOWN: it cannot tell
whether the service fails or its own litter does. A lock file
(``fcntl.flock``) keeps a second copy from starting while one runs.
"""

from __future__ import annotations

import abc
import contextlib
import os
import time

from osops.check.base import Argument, Detail, Perf, State, metric
from osops.exceptions import CheckError, OsopsError, ServiceDown
from osops_monitoring.openstack import CLOUD_ARGUMENTS, OpenStackCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, ClassVar

    import nagiosplugin
    from keystoneauth1.session import Session

SYNTHETIC_ARGUMENTS: tuple[Argument, ...] = (
    *CLOUD_ARGUMENTS,
    Argument("name-prefix", "Prefix of every resource the probe creates.", default="osops-probe-"),
    Argument(
        "leftover-minutes",
        "Delete prefixed resources older than this before probing (a killed run's).",
        type="float",
        default=10.0,
    ),
    Argument(
        "state-dir",
        "Directory of the lock file (default: $XDG_RUNTIME_DIR, else /var/tmp).",
    ),
)


def phase_perfdata(phases: str) -> tuple[Perf, ...]:
    """The perfdata every probe declares: seconds per phase, the total, leftovers deleted."""
    return (
        Perf(
            "total_time",
            "Seconds from the first call to the resource gone.",
            uom="s",
            min=0,
            warning="60",
            critical="120",
            fmt="round trip in {value:.2f}s",
        ),
        Perf("time", f"Seconds per phase: {phases}.", uom="s", min=0, per="phase"),
        Perf("leftovers", "Resources of killed runs this run deleted.", min=0),
    )


class SyntheticCheck(OpenStackCheck, abc.ABC):
    """Base of the synthetic probes; subclasses override ``roundtrip()``,
    ``leftovers()`` and ``delete()``, never ``probe()``.
    """

    arguments = SYNTHETIC_ARGUMENTS
    primary = "total_time"
    #: Seconds of the timeout kept back for deleting what the probe made.
    cleanup_reserve: ClassVar[float] = 0.25

    @abc.abstractmethod
    def roundtrip(self, session: Session, name: str) -> Iterator[tuple[str, float]]:
        """Create a resource named ``name``, use it and delete it, yielding (phase, seconds).

        Record what was created in ``self.created`` (its id) as soon as it exists,
        so that it is deleted when anything after fails.

        :raises ServiceDown: the service failed the round trip (CRITICAL)
        """

    @abc.abstractmethod
    def leftovers(self, session: Session, prefix: str) -> list[tuple[str, str, float]]:
        """(id, name, age in seconds) of the probe's own resources that exist now."""

    @abc.abstractmethod
    def delete(self, session: Session, resource_id: str) -> None:
        """Delete one resource and wait until it is gone (within ``self.deadline``)."""

    def probe(self) -> Iterator[nagiosplugin.Metric | Detail]:
        with self._lock():
            session = self.session()
            started = time.monotonic()
            self.deadline = started + self.timeout * (1 - self.cleanup_reserve)
            deleted = self._clean_leftovers(session)
            yield metric("leftovers", len(deleted))
            prefix = f"{self.options['name_prefix']}{self.check_name()}-"
            name = f"{prefix}{time.strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}"
            self.created: str | None = None
            try:
                phases = list(self.roundtrip(session, name))
            finally:
                made = self.pending()
                if made is not None:
                    # The round trip failed half-way: delete within the reserved time.
                    self.deadline = started + self.timeout
                    with contextlib.suppress(OsopsError):
                        self.delete(session, made)
            for phase, seconds in phases:
                yield metric("time", round(seconds, 3), instance=phase)
            yield metric("total_time", round(time.monotonic() - started, 3))
            text = ", ".join(f"{phase} {seconds:.2f}s" for phase, seconds in phases)
            if deleted:
                text += f"; deleted {len(deleted)} leftovers: {', '.join(deleted[:3])}"
            yield Detail(text, State.OK)

    def pending(self) -> str | None:
        """The id of what the round trip created and has not deleted."""
        return self.created

    @classmethod
    def check_name(cls) -> str:
        return "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("_")

    def _clean_leftovers(self, session: Session) -> list[str]:
        prefix = f"{self.options['name_prefix']}{self.check_name()}-"
        limit = float(self.options["leftover_minutes"]) * 60
        deleted = []
        try:
            for resource_id, name, age in self.leftovers(session, prefix):
                if age >= limit:
                    self.delete(session, resource_id)
                    deleted.append(name)
        except OsopsError as exc:
            raise CheckError(f"cannot delete the leftovers of earlier runs: {exc}") from None
        return deleted

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        import fcntl

        where = (
            self.options["state_dir"] or os.environ.get("XDG_RUNTIME_DIR") or "/var/tmp"  # noqa: S108
        )
        cloud = self.options["os_cloud"] or os.environ.get("OS_CLOUD") or "env"
        path = os.path.join(where, f"osops-{self.check_name()}-{cloud}.lock")
        try:
            handle = open(path, "a")  # noqa: SIM115
        except OSError as exc:
            raise CheckError(f"cannot open lock {path}: {exc.strerror}") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CheckError(f"another {self.check_name()} is running (lock {path})") from None
            yield

    def wait_for(self, what: str, ready: Callable[[], Any]) -> Any:
        """Poll ``ready`` until it returns something true, until ``self.deadline``.

        :raises ServiceDown: not by the deadline, naming ``what``
        """
        began = time.monotonic()
        pause = 0.1
        while True:
            value = ready()
            if value:
                return value
            if time.monotonic() + pause > self.deadline:
                raise ServiceDown(f"{what} after {time.monotonic() - began:.1f}s")
            time.sleep(pause)
            pause = min(pause * 1.5, 1.0)


def age_seconds(timestamp: str) -> float:
    """Seconds since an OpenStack timestamp (UTC, with or without Z or microseconds)."""
    import datetime

    text = timestamp.replace("Z", "+00:00")
    when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return (datetime.datetime.now(datetime.UTC) - when).total_seconds()


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    value = func()
    return value, time.monotonic() - started
