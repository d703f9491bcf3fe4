"""The dispatcher: claim each job in the ledger, apply the delivery policy, send, and settle the outcome.

- A job already in the ledger (claimed, sent, refused, …) is skipped: one message per (alert, recipient).
- Transient failures wait in the ledger with a due time (backoff + jitter); the partition moves on.
- Permanent refusals are classified by the alerts policy (21610 → opt-out) and may hand over to the
  recipient's next guardian (``fallback_pending``; emitted by ``emit_fallbacks``).
- An ambiguous send is reconciled first: the provider's messages to that number are searched for the
  job marker in their status-callback URL (or, where the provider does not return that URL, the job's
  body, which carries the alert reference); only if none matches is the message sent again.
- A cancelled alert (``CancellationBook``, checked once per round, right before sending) is never sent:
  new and waiting jobs become ``cancelled``; an ambiguous one is reconciled first and becomes ``accepted``
  if the provider holds it, ``cancelled`` otherwise.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alerts.gateway import AmbiguousSendError, GatewayError, PermanentSendError, SmsGateway, TransientSendError
from alerts.policy import Action, QuietHours, after_refusal, decide
from consumers.metrics import SMS_CLAIMS_LOST, record_dispatch
from consumers.outage import OutageGuard, dependency_of
from consumers.sms.backoff import Backoff
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.ledger import (
    ACCEPTED,
    CANCELLED,
    EXPIRED,
    FAILED,
    HELD,
    RECONCILE,
    REFUSED,
    RETRY,
    SKIPPED,
    Claim,
    Outcome,
    SmsLedger,
)
from contracts.alert_request import EMERGENCY_VALIDITY_S
from contracts.clock import Clock
from contracts.common import Priority
from contracts.sms import SmsJob

log = logging.getLogger("childsafe.sms.dispatch")


@dataclass(frozen=True)
class DispatchSettings:
    callback_base_url: str = "http://127.0.0.1:6070"
    lease_s: float = 60.0
    reconcile_delay_s: float = 2.0
    emergency_validity_s: int = EMERGENCY_VALIDITY_S
    backoff: Backoff = field(default_factory=Backoff)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    concurrency: int = 8


class SmsDispatcher:
    def __init__(self, ledger: SmsLedger, gateway: SmsGateway, clock: Clock, settings: DispatchSettings,
                 *, cancellations: CancellationBook, rng: random.Random, owner: str, guard: OutageGuard,
                 throttle: Callable[[], float] | None = None, sleep: Callable[[float], None] = time.sleep,
                 slots: Callable[[int], list[float]] | None = None):
        """``owner`` names this dispatcher in its ledger claims (unique per process: ops/bootstrap.py builds it);
        ``rng`` jitters the retry backoff; ``throttle`` (a rate limiter's reserve) is optional: none, no limit;
        ``slots`` (the shared rate limit's reserve_many) reserves a round's slots at once instead."""
        self.ledger, self.gateway, self.clock, self.settings = ledger, gateway, clock, settings
        self.cancellations, self.rng, self.owner = cancellations, rng, owner
        self.throttle, self.sleep = throttle, sleep  # throttle: a token bucket's reserve()
        # slots: the shared rate limit's reserve_many(n): a round's slots in one reservation (epoch seconds each)
        self.slots = slots
        self.guard = guard
        self._rounds = itertools.count(1)
        self._pool = ThreadPoolExecutor(max(1, settings.concurrency), thread_name_prefix="sms-send")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def dispatch(self, jobs: Iterable[SmsJob]) -> list[Outcome]:
        """Claim new jobs and work them; jobs already in the ledger are skipped, jobs of cancelled alerts
        recorded as ``cancelled``."""
        jobs = list(jobs)
        stopped = self.cancellations.cancelled({j.alert_id for j in jobs})
        return self._work(self.ledger.claim_new(jobs, self._token(), self.settings.lease_s, stopped))

    def sweep(self, limit: int = 500) -> list[Outcome]:
        """Work the ledger rows whose wait is over (retries, reconciliations, held messages, dead owners)."""
        return self._work(self.ledger.claim_due(self._token(), self.settings.lease_s, limit))

    def _token(self) -> str:
        """A claim token per round: a row this dispatcher claims again (its lease ran out while queued here) gets a
        new token, so the earlier, still-queued attempt finds its claim gone and does not send."""
        return f"{self.owner}/{next(self._rounds)}"

    def callback_url(self, marker: str) -> str:
        return f"{self.settings.callback_base_url.rstrip('/')}/sms/status?job={marker}"

    def _work(self, claims: list[Claim]) -> list[Outcome]:
        if not claims:
            return []
        now = self.clock.now()
        opted_out = self.ledger.opted_out({c.job.to for c in claims})
        stopped = self.cancellations.cancelled({c.job.alert_id for c in claims})
        outcomes, to_send, to_settle = [], [], []
        for claim in claims:
            job = claim.job
            if job.alert_id in stopped:
                if claim.reconcile:  # the provider may hold it already: look before calling it cancelled
                    to_settle.append(claim)
                else:
                    outcomes.append(Outcome(claim.row_id, CANCELLED, last_error="alert cancelled before sending"))
                continue
            validity = self._validity(job)
            if validity and now.timestamp() > claim.created_at + validity and not claim.reconcile:
                outcomes.append(Outcome(claim.row_id, EXPIRED, last_error=f"not sent within its validity ({validity}s)",
                                        fallback=False))
                continue
            decision = decide(job.priority, opted_out=job.to in opted_out, now=now, quiet=self.settings.quiet_hours)
            if decision.action == Action.SKIP:
                outcomes.append(Outcome(claim.row_id, SKIPPED, last_error=decision.reason,
                                        fallback=self._falls_back(job)))
            elif decision.action == Action.HOLD and not claim.reconcile:
                outcomes.append(Outcome(claim.row_id, HELD, due_at=decision.release_at.timestamp(),
                                        last_error=decision.reason))
            else:
                to_send.append(claim)
        slot_at: list[float | None] = [None] * len(to_send)
        lost = 0
        if self.slots is not None and to_send:  # one renewal and one reservation for the round, not one per send
            kept = self._still_mine_all(to_send)
            lost = len(to_send) - len(kept)
            to_send = [c for c in to_send if c.row_id in kept]
            slot_at = list(self.slots(len(to_send))) if to_send else []
        attempted = list(self._pool.map(self._attempt, to_send, slot_at))
        lost += attempted.count(None)
        if lost:  # another dispatcher took these rows over while they waited here: theirs to finish
            log.warning("%d claim(s) lost before sending; left to the dispatcher that holds them", lost)
            SMS_CLAIMS_LOST.inc(lost)
        outcomes.extend(o for o in attempted if o is not None)
        outcomes.extend(self._pool.map(self._settle_cancelled, to_settle))
        # the provider has answered: keep these answers through a database outage rather than reconcile them later
        owners = {c.row_id: c.owner for c in claims}
        self.guard.run(lambda: self.ledger.settle(outcomes, owners), "settling sent jobs")
        record_dispatch(outcomes, {c.row_id: c.job for c in to_send}, now=self.clock.now())
        return outcomes

    def _validity(self, job: SmsJob) -> int | None:
        if job.validity_seconds:
            return job.validity_seconds
        return self.settings.emergency_validity_s if job.priority == Priority.EMERGENCY else None

    def _falls_back(self, job: SmsJob) -> bool:
        return job.recipient_id.startswith("g:") and (job.guaranteed_reach or job.priority == Priority.EMERGENCY)

    def _reconcile(self, claim: Claim) -> Outcome | None:
        """ACCEPTED if the provider holds this job's message, RECONCILE (later) if it could not be asked."""
        try:
            found = self.gateway.find_messages(to=claim.job.to)
        except GatewayError as exc:
            return Outcome(claim.row_id, RECONCILE, due_at=self._later(self.settings.reconcile_delay_s),
                           last_error=f"reconcile look-up failed: {exc}")
        for message in found:
            if _is_this_job(message, claim):
                return Outcome(claim.row_id, ACCEPTED, sid=message.sid, provider_status=message.status,
                               last_error="reconciled: the provider already held it")
        return None

    def _settle_cancelled(self, claim: Claim) -> Outcome:
        return self._reconcile(claim) or Outcome(claim.row_id, CANCELLED,
                                                 last_error="alert cancelled; reconciled: the provider never had it")

    def _attempt(self, claim: Claim, slot_at: float | None = None) -> Outcome | None:
        """Send one claimed job (at ``slot_at``, its reserved slot, if the round reserved them); None when the claim
        was lost while it waited (nothing was sent)."""
        job, rid = claim.job, claim.row_id
        if claim.reconcile:
            known = self._reconcile(claim)
            if known is not None:
                return known
        wait = 0.0
        if slot_at is not None:
            wait = slot_at - self.clock.now().timestamp()
        elif self.throttle is not None:
            if not self._still_mine(claim):  # before taking a slot of the shared rate: a lost claim wastes none
                return None
            wait = self.throttle()
        while wait > 0:  # queued behind the rate limit: keep the claim alive while waiting for the slot
            step = min(wait, self.settings.lease_s / 2)
            self.sleep(step)
            wait -= step
            if wait > 0 and not self._still_mine(claim):
                return None
        if not self._still_mine(claim):  # right before the send: the conditional update on owner and lease
            return None
        try:
            sent = self.gateway.send(to=job.to, body=job.body, status_callback=self.callback_url(claim.marker),
                                     validity_seconds=self._validity(job))
        except TransientSendError as exc:
            attempt = claim.attempts + 1
            if self.settings.backoff.exhausted(attempt):
                return Outcome(rid, FAILED, error_code=exc.code, last_error=f"gave up after {attempt} attempts: {exc}",
                               attempted=True, fallback=self._falls_back(job))
            return Outcome(rid, RETRY, due_at=self._later(self.settings.backoff.delay(attempt, self.rng)),
                           error_code=exc.code, last_error=str(exc), attempted=True)
        except PermanentSendError as exc:
            refusal = after_refusal(job.priority, exc.code, guaranteed_reach=job.guaranteed_reach)
            return Outcome(rid, REFUSED, error_code=exc.code, last_error=refusal.reason, attempted=True,
                           fallback=refusal.try_next_contact and job.recipient_id.startswith("g:"),
                           opt_out_phone=job.to if refusal.record_opt_out else None)
        except AmbiguousSendError as exc:
            return Outcome(rid, RECONCILE, due_at=self._later(self.settings.reconcile_delay_s),
                           last_error=f"ambiguous: {exc}", attempted=True)
        return Outcome(rid, ACCEPTED, sid=sent.sid, provider_status=sent.status, attempted=True)

    def _still_mine_all(self, claims: list[Claim]) -> set[int]:
        """``_still_mine`` for a round in one transaction: the row ids still ours (none if the database cannot say)."""
        try:
            return self.ledger.renew_all(claims, self.settings.lease_s)
        except Exception as exc:
            if dependency_of(exc) is None:
                raise
            return set()

    def _still_mine(self, claim: Claim) -> bool:
        """Renew the claim if it is still ours and its lease has not run out; False: do not send (another
        dispatcher holds it, or the database cannot say, and then the row is reconciled after its lease)."""
        try:
            return self.ledger.renew(claim.row_id, claim.owner, self.settings.lease_s)
        except Exception as exc:
            if dependency_of(exc) is None:
                raise
            return False

    def _later(self, seconds: float) -> float:
        return self.clock.now().timestamp() + seconds


def _is_this_job(message, claim: Claim) -> bool:
    """The job marker is in the status-callback URL where the provider returns it (the sandbox); Twilio's
    Message resource does not, so there the body decides: it carries the alert's reference, so one
    (alert, number) pair has one body."""
    if message.status_callback:
        return f"job={claim.marker}" in message.status_callback
    return message.body == claim.job.body
