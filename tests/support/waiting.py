"""Waiting on a condition, never on the clock: poll until it holds, with a bound for a failing test.

The timeout only bounds a test that fails; a busy machine makes each look slower, never the outcome
different. Nothing here proves that something did *not* happen: assert on state for that."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 20.0, *, step: Callable[[], object] | None = None,
             interval: float = 0.02, what: str | None = None) -> T:
    """condition()'s first truthy value, looking every `interval` seconds; `step` runs before each look
    (a worker's next pass, a check that the thing waited on still runs). At the timeout: the last
    (falsy) value, for the caller to assert, or AssertionError naming `what` when it is given."""
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        found = condition()
        if found or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if not found and what is not None:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
    return found
