"""The one way tests wait: poll a check until it passes or a deadline passes (cosmicpython's tests/e2e/wait_for).

``check`` raises AssertionError (or returns a falsy value other than None) while the condition does not hold; the last
failure is re-raised at the deadline, so the test says what it was waiting for. No fixed sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotYet(AssertionError):
    pass


def _attempt(check: Callable[[], T]) -> T:
    result = check()
    if result is not None and not result:
        raise NotYet(f"{getattr(check, '__name__', 'check')} still gives {result!r}")
    return result


def _polls(check: Callable[[], T], timeout: float):
    """Yields after each attempt that did not pass yet; returns the passing value; re-raises at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _attempt(check)
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        yield


def _step(polls) -> tuple[bool, object]:
    """One attempt: (True, value) once the check passed, else (False, None)."""
    try:
        next(polls)
    except StopIteration as passed:
        return True, passed.value
    return False, None


def wait_for(check: Callable[[], T], timeout: float = 30.0, every: float = 0.02) -> T:
    """Poll ``check`` (in this thread) until it passes; returns its last value."""
    polls = _polls(check, timeout)
    while not (done := _step(polls))[0]:
        time.sleep(every)
    return done[1]


async def wait_for_async(check: Callable[[], T], timeout: float = 10.0, every: float = 0.005) -> T:
    """The same inside an event loop: yields to the loop between attempts so agents and servers run."""
    polls = _polls(check, timeout)
    while not (done := _step(polls))[0]:
        await asyncio.sleep(every)
    return done[1]
