"""A hang guard for calls that promise to come back: not a speed check.

A test checks a deadline through what the code computed and handed to the
port (PrintResult.deadline, longest_wait); wall time only tells a hang apart
from a slow run, so the guard is far above any deadline: on a loaded CI
machine a call may take several times its deadline and still be right.
"""
from __future__ import annotations

HANG_FACTOR = 20
HANG_SLACK = 10.0  # seconds: process start-up, imports, a machine busy with other tests


def hang_limit(deadline: float) -> float:
    """Seconds after which a call allowed `deadline` seconds has hung."""
    return HANG_FACTOR * deadline + HANG_SLACK


def assert_not_hung(elapsed: float, deadline: float, story: str = "") -> None:
    """Fail only when the call took more than hang_limit(deadline): it hung."""
    limit = hang_limit(deadline)
    assert elapsed < limit, f"hung: {story} took {elapsed:.1f} s, over {limit:.0f} s for a {deadline:.2f} s deadline"
