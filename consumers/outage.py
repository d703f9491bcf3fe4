"""Riding out an outage: a database or broker that is down means wait and retry the same work, never exit.

``OutageGuard.run(work)`` calls ``work`` until it succeeds. A failure that means "the database or Kafka is not
answering" (``dependency_of``) is logged, counted (``childsafe_outage_retries_total``, ``…_wait_seconds_total``)
and waited out with capped exponential backoff plus jitter; any other exception is a bug and propagates.
Callers pass the *same* work again (the same records, the same batch), so nothing is skipped, and they commit
offsets only after ``run`` returned, so nothing is committed past a failure.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from consumers.metrics import OUTAGE_RETRIES, OUTAGE_WAIT_SECONDS
from contracts.produce_errors import is_retryable_kafka_error

log = logging.getLogger("childsafe.outage")
R = TypeVar("R")


def dependency_of(exc: BaseException) -> str | None:
    """``database``, ``kafka`` or None (not an outage: a bug or bad input, let it propagate)."""
    if isinstance(exc, (OperationalError, PoolTimeout)):
        return "database"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "database"
    if is_retryable_kafka_error(exc):
        return "kafka"
    return None


class OutageGuard:
    """One worker's outage waits: ``stop`` is the worker's own stop event (setting it ends a wait early), ``rng``
    jitters the backoff; both come from the composition root (ops/bootstrap.outage_guard)."""

    def __init__(self, worker: str, stop: threading.Event, rng: random.Random, *, base_s: float = 0.5,
                 cap_s: float = 15.0, sleep: Callable[[float], None] | None = None):
        self.worker, self.stop, self.rng = worker, stop, rng
        self.base_s, self.cap_s = base_s, cap_s
        self._sleep = sleep

    def sleep(self, seconds: float) -> None:
        """Wait (injected ``sleep``, else until ``stop`` is set or the time is up)."""
        (self._sleep or self.stop.wait)(seconds)

    def run(self, work: Callable[[], R], what: str) -> R:
        """``work()``'s result, after as many waits as the outage takes. Raises ``Stopped`` if the worker is told to
        stop while waiting (nothing was committed past the failure)."""
        attempt, started = 0, None
        while True:
            try:
                result = work()
            except Exception as exc:
                dependency = dependency_of(exc)
                if dependency is None:
                    raise
                attempt += 1
                started = started or time.monotonic()
                delay = min(self.cap_s, self.base_s * 2 ** min(attempt - 1, 16)) * self.rng.uniform(0.8, 1.2)
                log.warning("%s: %s unavailable (%s: %s); retrying the same work in %.1fs (attempt %d, %.0fs so far)",
                            what, dependency, type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "",
                            delay, attempt, time.monotonic() - started,
                            extra={"worker": self.worker, "dependency": dependency, "attempt": attempt})
                OUTAGE_RETRIES.labels(self.worker, dependency).inc()
                OUTAGE_WAIT_SECONDS.labels(self.worker, dependency).inc(delay)
                self.sleep(delay)
                if self.stop.is_set():
                    raise Stopped(f"{self.worker} stopped while waiting out a {dependency} outage during {what}") from None
                continue
            if attempt:
                log.info("%s: recovered after %d retries (%.1fs)", what, attempt, time.monotonic() - started,
                         extra={"worker": self.worker})
            return result


class Stopped(Exception):
    """The worker was asked to stop during an outage; the interrupted work was not committed."""


def outage_middleware(worker: str, retry_after_s: int = 5):
    """For the HTTP workers (webhooks): a request that met a database or broker outage is answered 503 with
    ``Retry-After``, logged and counted, so the caller (the provider) sends it again; nothing half-recorded is
    acknowledged, and the server keeps running."""
    from aiohttp import web

    @web.middleware
    async def middleware(request, handler):
        try:
            return await handler(request)
        except Exception as exc:
            dependency = dependency_of(exc)
            if dependency is None:
                raise
            log.warning("%s %s: %s unavailable (%s); answered 503, the caller retries", request.method, request.path,
                        dependency, type(exc).__name__, extra={"worker": worker, "dependency": dependency})
            OUTAGE_RETRIES.labels(worker, dependency).inc()
            return web.json_response({"error": f"{dependency} unavailable; retry later"}, status=503,
                                     headers={"Retry-After": str(retry_after_s)})

    return middleware


def poll_until_stopped(guard: OutageGuard, poll_once: Callable[[], object], kafka) -> None:
    """A consumer worker's loop: poll until the guard's stop event is set (an outage wait ends early then); the
    Kafka consumer is closed on the way out without committing anything not yet done."""
    try:
        while not guard.stop.is_set():
            poll_once()
    except Stopped:
        log.info("stopped while waiting out an outage; nothing was committed past it",
                 extra={"worker": guard.worker})
    finally:
        kafka.close(autocommit=False)
