"""The case desk: what agencies and schools do with cases, each action in one transaction with its audit record.

Every call starts from a credential — a token, or a `Principal` the caller (the web console) authenticated
itself: authenticate, check the role may do it, find the case in the unit's scope (another unit's case is
"not found"), check the unit's standing on the case allows it (consumers/cases/access.py), act, record
who/when/what/why. Refusals (401, 403, 404) are audited in their own transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases import access, audit, history
from consumers.cases.access import Principal, Standing, require, scoped_cases
from consumers.cases.errors import CaseNotFound, Forbidden, InvalidCaseInput, NotAuthenticated
from consumers.cases.models import CaseDeadline, MandatoryReportCase
from consumers.cases.tokens import audit_refused_token, authenticate
from consumers.cases.vault import reveal_reporter
from consumers.cases.views import case_listing, case_view
from consumers.store.db import transaction
from contracts.clock import Clock
from contracts.errors import FieldError

Credential = str | Principal | None  # a desk token, or a principal the caller authenticated (console session)


@dataclass
class Acting:
    session: Session
    principal: Principal
    case: MandatoryReportCase | None
    now: datetime
    standing: Standing | None = None

    def record(self, kind: str, what: str, why: str = "", **kw) -> None:
        history.record(self.session, self.case.case_id, at=self.now, actor=self.principal.actor, kind=kind,
                       what=what, why=why, **kw)


def text(field: str, value: str | None, *, max_len: int = 4000, required: bool = True) -> str:
    """A free-text field: required ones must not be blank; none may be longer than `max_len` or carry control
    characters other than tab and line breaks (NUL cannot be stored by PostgreSQL; the others hide text)."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidCaseInput([FieldError(field, "required, non-empty text", "blank")])
    bad = next((i for i, ch in enumerate(value) if ch not in "\t\n\r" and unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise InvalidCaseInput([FieldError(field, "no control characters other than tab and line breaks",
                                           f"U+{ord(value[bad]):04X} at position {bad}")])
    if len(value) > max_len:
        raise InvalidCaseInput([FieldError(field, f"at most {max_len} characters", f"{len(value)} characters")])
    return value


class CaseDeskBase:
    def __init__(self, factory: sessionmaker[Session], clock: Clock):
        self.factory, self.clock = factory, clock

    @contextmanager
    def acting(self, credential: Credential, action: str, case_id: str | None = None) -> Iterator[Acting]:
        refusal = None
        try:
            with transaction(self.factory) as session:
                now = self.clock.now()
                principal = (credential if isinstance(credential, Principal)
                             else authenticate(session, credential, now))
                try:
                    require(principal, action)
                    case, held = None, None
                    if case_id is not None:
                        case = access.find_case(session, principal, case_id, lock=True)
                        held = access.check(session, principal, action, case)
                except (Forbidden, CaseNotFound) as exc:
                    refusal = (principal, action, case_id, type(exc).__name__, now)
                    raise
                yield Acting(session, principal, case, now, held)
        except NotAuthenticated as exc:
            if not isinstance(credential, Principal):
                audit_refused_token(self.factory, credential, action, case_id, exc, self.clock.now())
            raise
        except (Forbidden, CaseNotFound):
            if refusal is not None:  # the refusal itself is audited, then reported to the caller
                self._audit_denied(*refusal)
            raise

    def _audit_denied(self, principal: Principal, action: str, case_id: str | None, why: str, now: datetime) -> None:
        with transaction(self.factory) as session:
            audit.append(session, at=now, actor=principal.actor, action=f"denied.{action}",
                         subject=case_id or principal.unit_id, outcome=why)

    def allowed_actions(self, credential: Credential, case_id: str) -> frozenset[str]:
        """The actions the caller may take on this case now (not audited: it reveals nothing of the case)."""
        with self.acting(credential, "view", case_id) as act:
            return access.allowed_actions(act.session, act.principal, act.case)

    # -- reads (each is audited) ---------------------------------------------------------------
    def list_cases(self, credential: Credential, state: str | None = None, breached: bool = False) -> list[dict]:
        with self.acting(credential, "list") as act:
            query = scoped_cases(act.principal).order_by(MandatoryReportCase.reported_at.desc())
            if state:
                query = query.where(MandatoryReportCase.state == state)
            if breached:
                query = query.where(select(CaseDeadline.id).where(CaseDeadline.case_id == MandatoryReportCase.case_id,
                                                                  CaseDeadline.breached_at.is_not(None)).exists())
            cases = act.session.execute(query).scalars().all()
            audit.append(act.session, at=act.now, actor=act.principal.actor, action="cases.list",
                         subject=act.principal.unit_id, details={"count": len(cases), "state": state or "",
                                                                 "breached": breached})
            return [case_listing(act.session, act.principal, c) for c in cases]

    def view_case(self, credential: Credential, case_id: str) -> dict:
        """The view of the case for the caller's standing (agency, school or referral view); audited."""
        with self.acting(credential, "view", case_id) as act:
            audit.append(act.session, at=act.now, actor=act.principal.actor, action="case.read", subject=case_id,
                         details={"view": act.standing.value})
            return case_view(act.session, act.principal, act.case, act.standing)

    def reporter(self, credential: Credential, case_id: str) -> dict:
        """Reveal the confidential reporter: the lead agency's police only; every reveal is audited."""
        with self.acting(credential, "reporter", case_id) as act:
            audit.append(act.session, at=act.now, actor=act.principal.actor, action="case.reporter.read",
                         subject=case_id)
            return reveal_reporter(act.session, case_id)
