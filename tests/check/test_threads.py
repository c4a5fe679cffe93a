"""fan_out (osops.check.threads): many calls, a few at once, until a deadline."""

from __future__ import annotations

import threading
import time

from osops.check.threads import fan_out


class Calls:
    """A call that takes ``seconds`` and counts how many run at once and how many began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.active = self.peak = self.began = 0

    def __call__(self, item: int) -> int:
        with self.lock:
            self.began += 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.seconds)
            if item % 10 == 9:
                raise ValueError(f"item {item}")
            return item * 2
        finally:
            with self.lock:
                self.active -= 1


def test_fan_out_every_item_with_its_result_or_error() -> None:
    calls = Calls(0.01)
    got = list(fan_out(calls, range(30), 4, time.monotonic() + 10))
    assert sorted(item for item, _, _ in got) == list(range(30))
    for item, result, error in got:
        if item % 10 == 9:
            assert (result, str(error)) == (None, f"item {item}")
        else:
            assert (result, error) == (item * 2, None)
    assert calls.peak == 4


def test_fan_out_stops_at_the_deadline_without_waiting_for_running_calls() -> None:
    calls = Calls(0.1)
    started = time.monotonic()
    got = list(fan_out(calls, range(200), 5, started + 0.35))
    returned = time.monotonic() - started
    assert returned < 1.0  # 0.35 s and a busy machine's slack: not the 0.1 s calls' end
    # Rounds of 5 calls of 0.1 s: 3 rounds done by 0.35 s, the fourth still running.
    assert 5 <= len(got) <= 15, len(got)
    time.sleep(0.3)  # what was running has ended; nothing more began
    assert calls.began <= len(got) + 5, (calls.began, len(got))
    assert calls.peak == 5
    # The calls run on daemon threads: a process exits without waiting for them.
    assert all(t.daemon for t in threading.enumerate() if t.name == "osops-fan-out")


def test_fan_out_stops_when_the_caller_stops() -> None:
    calls = Calls(0.05)
    for _ in fan_out(calls, range(100), 2, time.monotonic() + 10):
        break
    time.sleep(0.2)
    assert calls.began <= 4  # the two running, and the next each took before the stop
