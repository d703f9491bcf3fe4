"""Delivery policy: when a message may go out (quiet hours), to whom (opt-outs), and what a refusal means.

Priority classes (contracts.common.Priority):
- EMERGENCY: danger now. Never held by quiet hours; sent even to a number that opted out (the opt-out
  covers routine messages, not a fire at the child's school), unless the provider itself refuses it
  (21610), in which case the next contact in order is tried.
- URGENT: must be acted on within hours (case escalation, dangerous recall, outbreak). Not held by quiet
  hours either: urgent alerts carry a short ValidityPeriod, so holding them until morning would let them
  expire or arrive stale. Opt-outs are honoured.
- NORMAL: everything else. Held during quiet hours (default 22:00-07:00 Asia/Shanghai) until they end;
  opt-outs are honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from contracts.alert_request import EMERGENCY_VALIDITY_S
from contracts.common import Priority

UNSUBSCRIBED = 21610
INVALID_NUMBER = 21211
NOT_MOBILE = 21614
UNDELIVERABLE = frozenset(range(30003, 30009))  # handset off, unknown destination, carrier, landline, filtered, unknown


@dataclass(frozen=True)
class QuietHours:
    """A nightly window in a local timezone; ``start == end`` means no quiet hours."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    tz: str = "Asia/Shanghai"

    def release_time(self, now: datetime) -> datetime | None:
        """When a message held at ``now`` may go (same tzinfo as ``now``), or None if ``now`` is not quiet."""
        if self.start == self.end:
            return None
        local = now.astimezone(ZoneInfo(self.tz))
        t = local.timetz().replace(tzinfo=None)
        overnight = self.start > self.end
        quiet = (t >= self.start or t < self.end) if overnight else (self.start <= t < self.end)
        if not quiet:
            return None
        day = local.date() + timedelta(days=1) if overnight and t >= self.start else local.date()
        release = datetime.combine(day, self.end, tzinfo=ZoneInfo(self.tz))
        return release.astimezone(now.tzinfo)


class Action(StrEnum):
    SEND = "send"
    HOLD = "hold"
    SKIP = "skip"


@dataclass(frozen=True)
class SendDecision:
    action: Action
    reason: str
    release_at: datetime | None = None  # set when action is HOLD


def decide(priority: Priority, *, opted_out: bool, now: datetime, quiet: QuietHours = QuietHours()) -> SendDecision:
    """Whether one message goes now, waits for morning, or is not sent at all."""
    if opted_out and priority != Priority.EMERGENCY:
        return SendDecision(Action.SKIP, f"recipient opted out; {priority.value} messages honour opt-outs")
    if priority == Priority.NORMAL:
        release = quiet.release_time(now)
        if release is not None:
            return SendDecision(Action.HOLD, "quiet hours hold normal messages", release)
    if opted_out:
        return SendDecision(Action.SEND, "emergency: sent despite the opt-out")
    return SendDecision(Action.SEND, f"{priority.value}: send now")


@dataclass(frozen=True)
class RefusalOutcome:
    """What to do after the provider refused a number (at send) or could not deliver (callback)."""

    record_opt_out: bool
    number_unusable: bool
    try_next_contact: bool
    reason: str


def after_refusal(priority: Priority, code: int | None, *, guaranteed_reach: bool) -> RefusalOutcome:
    """21610 becomes an opt-out; invalid, landline and undeliverable numbers are marked; the next contact
    in order is tried for emergencies and for alerts that ask for guaranteed reach."""
    next_contact = guaranteed_reach or priority == Priority.EMERGENCY
    if code == UNSUBSCRIBED:
        return RefusalOutcome(True, False, next_contact, "provider refused: recipient unsubscribed (21610)")
    if code in (INVALID_NUMBER, NOT_MOBILE):
        return RefusalOutcome(False, True, next_contact, f"provider refused: number unusable ({code})")
    if code in UNDELIVERABLE:
        return RefusalOutcome(False, False, next_contact, f"not delivered ({code})")
    return RefusalOutcome(False, False, next_contact, f"refused ({code})")


DEFAULT_VALIDITY = {Priority.EMERGENCY: EMERGENCY_VALIDITY_S, Priority.URGENT: 3600, Priority.NORMAL: None}
"""Seconds the provider may keep a message queued (Twilio ValidityPeriod, 1-36000; None = Twilio's 10 h).
Time-critical messages expire rather than arrive hours late (30036)."""


def validity_seconds(priority: Priority, requested: int | None = None,
                     defaults: dict[Priority, int | None] = DEFAULT_VALIDITY) -> int | None:
    """The alert's own validity if it set one, else the default for its priority class."""
    return requested if requested is not None else defaults[priority]
