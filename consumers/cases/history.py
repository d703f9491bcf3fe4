"""A case's history and the audit trail, written together with the change they describe."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy.orm import Session

from consumers.cases import audit
from consumers.cases.models import CaseEvent, MandatoryReportCase
from consumers.cases.states import CaseState


def record(session: Session, case_id: str, *, at: datetime, actor: str, kind: str, what: str, why: str = "",
           from_state: str | None = None, to_state: str | None = None, details: dict | None = None) -> CaseEvent:
    """Append a case event and its audit record (the audit holds states and a digest, never the text)."""
    event = CaseEvent(case_id=case_id, at=at, actor=actor, kind=kind, from_state=from_state, to_state=to_state,
                      what=what, why=why, details=details or {})
    session.add(event)
    digest = hashlib.sha256(json.dumps([kind, what, why, details or {}], sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    audit_details = {"event_digest": digest, **({"from": from_state, "to": to_state} if to_state else {})}
    audit.append(session, at=at, actor=actor, action=f"case.{kind}", subject=case_id, details=audit_details)
    return event


def transition(session: Session, case: MandatoryReportCase, target: CaseState, *, at: datetime, actor: str,
               what: str, why: str = "", details: dict | None = None) -> CaseEvent:
    """Move a case to `target` (the caller has checked the step is allowed) and record it."""
    before = case.state
    case.state, case.updated_at = target.value, at
    return record(session, case.case_id, at=at, actor=actor, kind="transition", what=what, why=why,
                  from_state=before, to_state=target.value, details=details)
