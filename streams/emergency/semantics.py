"""What a CAP 1.2 message means for who is told, and when (CAP 1.2 §3.2.1, DOMAIN.md "Alerts").

Status:

| status   | who is told                                                        |
|----------|--------------------------------------------------------------------|
| Actual   | everyone in the area                                               |
| Exercise | everyone in the area, every SMS marked 【演练】 (never mixed with Actual threads) |
| Test     | only the configured test recipients (``CHILDSAFE_CAP_TEST_SCHOOLS``), marked 【演练】 |
| System   | nobody: messages between systems; recorded                          |
| Draft    | nobody: not actionable; recorded                                    |

Time: an Alert or Update past ``expires`` is recorded and not sent; one whose ``effective`` or ``onset``
lies ahead is held until the later of the two that lie ahead (it is not in force before ``effective``, and
the sender asked for it at ``onset``), then sent unless it has expired meanwhile or its thread was cancelled.

Priority (urgency × severity × certainty), as public warning systems do:

| urgency            | severity         | certainty        | priority  |
|--------------------|------------------|------------------|-----------|
| Immediate/Expected | Extreme/Severe   | Observed/Likely  | emergency (never held, even opted-out numbers) |
| Past (any)         | Minor (any)      | Unlikely (any)   | normal (held by quiet hours) |
| anything else      |                  |                  | urgent    |

The rows cannot overlap: an emergency is never Past, Minor or Unlikely.
"""

from __future__ import annotations

import re
from datetime import datetime

from contracts.cap.sms import cap_priority as priority  # noqa: F401  (the table above; shared with the console)
from contracts.emergency import CapStatus, EmergencyAlertIssued
from contracts.errors import ContractError, FieldError

NEVER_SENT = {CapStatus.DRAFT: "status Draft: not actionable, never sent (CAP 1.2 §3.2.1)",
              CapStatus.SYSTEM: "status System: a message between systems, no person is alerted (CAP 1.2 §3.2.1)"}

MISSING_CHILD_EVENT_CODES = frozenset({"CAE"})  # SAME/EAS "Child Abduction Emergency" (AMBER)
MISSING_CHILD_WORDS = re.compile(r"amber|child\s+abduct|abducted\s+child|missing\s+(child|minor|juvenile)|"
                                 r"儿童走失|走失儿童|儿童失踪|失踪儿童|走失|失踪|拐卖|拐骗|被拐", re.IGNORECASE)


def never_sent(a: EmergencyAlertIssued) -> str | None:
    """Why a message of this status reaches nobody, or None."""
    return NEVER_SENT.get(a.status)


def expired(a: EmergencyAlertIssued, now: datetime) -> str | None:
    if a.expires is not None and a.expires <= now:
        return f"expired at {a.expires.isoformat()} (received {now.replace(microsecond=0).isoformat()}): not sent"
    return None


def hold_until(a: EmergencyAlertIssued, now: datetime) -> datetime | None:
    """When a message whose ``effective``/``onset`` lies ahead may go out, or None to send now."""
    ahead = [t for t in (a.effective, a.onset) if t is not None and t > now]
    return max(ahead) if ahead else None


def is_missing_child_event(a: EmergencyAlertIssued) -> bool:
    """An AMBER-style alert from another sender: a missing/abducted child, without our own parameters."""
    if any(c.value.strip().upper() in MISSING_CHILD_EVENT_CODES for c in a.event_codes):
        return True
    return any(MISSING_CHILD_WORDS.search(text or "") for text in (a.event, a.headline))


def original_sender(a: EmergencyAlertIssued) -> str:
    """Who started the thread: the sender of the earliest referenced message, else this message's."""
    if a.references:
        return min(a.references, key=lambda r: r.sent).sender
    return a.sender


def may_act_for(sender: str, original: str, delegates: dict[str, tuple[str, ...]]) -> bool:
    return sender == original or sender in delegates.get(original, ())


def check_sender(a: EmergencyAlertIssued, delegates: dict[str, tuple[str, ...]], original: str | None = None) -> None:
    """An Update or Cancel (or any message continuing a thread) comes from the thread's original sender or
    one configured to act for it (``CHILDSAFE_CAP_DELEGATES``); else a ContractError naming the field."""
    original = original or original_sender(a)
    if not may_act_for(a.sender, original, delegates):
        field = "data.references" if a.references else "data.sender"
        raise ContractError([FieldError(field, f"{a.msg_type.value} from {a.sender!r} refers to a thread started "
                                        f"by {original!r}; only that sender (or one configured to act for it in "
                                        "CHILDSAFE_CAP_DELEGATES) may update or cancel it", a.sender[:80])])
