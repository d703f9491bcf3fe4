"""What one recall notice causes in one partition of holdings: alert requests, cancellations, a review audit.

Pure: the Faust agent hands in the notice, the matches and the alerts issued before, and sends the result.
Alert ids derive from the notice's event id and the partition, so a replay produces identical messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from contracts.alert_request import AlertKind, AlertRequested, RecallHolders
from contracts.common import Priority
from contracts.events import RecallPublishedEvent
from contracts.recall import RecallAction, RiskLevel
from contracts.recall_match import Grade, recall_alert_params
from streams.emitting import alert_output, audit_output, cancel_output, chunks
from streams.output import Output
from streams.recalls.holdings import HolderMatch

SOURCE = "/childsafe/streams/recalls"
REVIEW_LIST_LIMIT = 200


@dataclass
class RecallOutcome:
    outputs: list[Output] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)


def _revision(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:8]


def recall_params(event: RecallPublishedEvent) -> dict[str, str]:
    """The recall alert's parameters (``contracts.recall_match.recall_alert_params``: the console previews them)."""
    return recall_alert_params(event.data)


def late_tag(holder_key: str) -> str:
    """The alert-id tag of a holder matched after the recall (its holdings arrived later): one per holder."""
    return f"late-{hashlib.sha256(holder_key.encode()).hexdigest()[:10]}:"


def plan(event: RecallPublishedEvent, partition: int, matches: list[HolderMatch], issued: list[str],
         now: datetime, holders_per_alert: int = 1000, tag: str = "") -> RecallOutcome:
    """``issued``: alert ids this partition sent for earlier notices of the same recall (cancelled when the
    recall is withdrawn or superseded by an update). ``tag`` (``late_tag``) marks a late holder's own alert."""
    r = event.data
    out = RecallOutcome()
    own = f"recall:{r.recall_number}:{_revision(event.id)}:p{partition}:"
    issued = [a for a in issued if not a.startswith(own)]  # a redelivered notice never cancels its own alerts
    if issued and r.action in (RecallAction.UPDATED, RecallAction.WITHDRAWN):
        why = "recall withdrawn" if r.action is RecallAction.WITHDRAWN else "superseded by a recall update"
        out.outputs += [cancel_output(a, why, event.id, SOURCE, now) for a in issued]
    alerted = [m for m in matches if m.grade >= Grade.STRONG]
    if r.action is not RecallAction.WITHDRAWN:
        priority = Priority.URGENT if r.risk_level in (RiskLevel.HIGH, RiskLevel.SERIOUS) else Priority.NORMAL
        rev = _revision(event.id)
        for kind, field_name in (("school", "school_ids"), ("guardian", "guardian_ids")):
            ids = sorted({m.holder_id for m in alerted if m.holder_kind == kind})
            for n, chunk in enumerate(chunks(ids, holders_per_alert)):
                alert = AlertRequested(
                    alert_id=f"recall:{r.recall_number}:{rev}:p{partition}:{tag}{kind[0]}{n}", kind=AlertKind.RECALL,
                    priority=priority, audience=RecallHolders(recall_number=r.recall_number, **{field_name: chunk}),
                    params=recall_params(event), source_event_id=event.id,
                    reason=f"recall {r.recall_number} ({r.action.value}) matched {len(chunk)} {kind} holders")
                out.alert_ids.append(alert.alert_id)
                out.outputs.append(alert_output(alert, SOURCE, now, correlationid=event.id))
    weak = [m for m in matches if m.grade is Grade.WEAK]
    counts = {g.name.lower(): sum(1 for m in matches if m.grade is g) for g in Grade}
    details = {**counts, "partition": partition, "alerts": out.alert_ids,
               "cancelled": [a for a in issued] if r.action is not RecallAction.PUBLISHED else [],
               "review": [f"{m.holder_kind}:{m.holder_id}:{','.join(m.registration_ids)} ({m.reason})"
                          for m in weak[:REVIEW_LIST_LIMIT]]}
    out.outputs.append(audit_output("streams.recalls", "match_recall", r.recall_number,
                                    "alerted" if out.alert_ids else ("review" if weak else "no_match"),
                                    f"{r.action.value}: exact {counts['exact']}, strong {counts['strong']}, "
                                    f"weak {counts['weak']} (weak ones listed for review, not alerted)",
                                    now, details, event_id=f"{event.id}:match:p{partition}{':' + tag if tag else ''}"))
    return out
