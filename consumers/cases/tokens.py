"""Access tokens: issued once in clear, stored only as a SHA-256 hash, scoped by role and unit, expiring.

Issuance, revocation and every refused attempt are audited (`token.issued`, `token.revoked`,
`denied.authenticate`); the audit names the token by its id, never by its secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from consumers.cases import audit
from consumers.cases.access import Principal, Role
from consumers.cases.columns import UtcDateTime
from consumers.cases.errors import InvalidCaseInput, NotAuthenticated
from consumers.indicators.models import Region
from consumers.store.core import Agency, School
from consumers.store.db import Base, transaction
from contracts.common import AgencyKind
from contracts.errors import FieldError

PREFIX = "cst"
DEFAULT_LIFETIME = timedelta(days=90)  # ops/settings.py: CHILDSAFE_CASE_TOKEN_DAYS
TOKEN_SHAPE = re.compile(r"cst_([0-9a-f]{12})_")


class AccessToken(Base):
    __tablename__ = "case_access_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_unit(session: Session, role: Role, unit_id: str) -> None:
    if role == Role.SCHOOL_OFFICER:
        if session.get(School, unit_id) is None:
            raise InvalidCaseInput([FieldError("unit", "a school officer's unit must be a school id in `schools`", unit_id)])
    elif role in (Role.POLICE_DUTY_OFFICER, Role.AGENCY_DUTY_OFFICER, Role.SUPERVISOR):
        agency = session.get(Agency, unit_id)
        if agency is None:
            raise InvalidCaseInput([FieldError("unit", "an agency officer's unit must be an agency id in `agencies`",
                                               unit_id)])
        if role == Role.POLICE_DUTY_OFFICER and agency.kind != AgencyKind.PUBLIC_SECURITY:
            raise InvalidCaseInput([FieldError("unit", "a police duty officer's unit must be a public_security agency",
                                               f"{unit_id} ({agency.kind})")])
    elif role in (Role.INDICATORS_PROVINCE, Role.INDICATORS_CITY):
        _check_indicator_unit(session, role, unit_id)


def _check_indicator_unit(session: Session, role: Role, unit_id: str) -> None:
    level = "province" if role == Role.INDICATORS_PROVINCE else "city"
    region = session.get(Region, unit_id)
    if region is None or region.level != level:
        raise InvalidCaseInput([FieldError("unit", f"an indicators {level}'s unit must be a {level} code in `regions`",
                                           unit_id)])


def issue_token(session: Session, role: str, unit_id: str, now: datetime, label: str = "",
                lifetime: timedelta = DEFAULT_LIFETIME, actor: str = "operator:cli") -> tuple[str, str]:
    """Create a token valid for `lifetime`; returns (token id, token). The token is shown once and never stored."""
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidCaseInput([FieldError("role", f"one of {', '.join(r.value for r in Role)}", role)]) from None
    if lifetime <= timedelta(0):
        raise InvalidCaseInput([FieldError("days", "a token must expire: a positive number of days",
                                           str(lifetime))])
    _check_unit(session, role_, unit_id)
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(24)}"
    expires_at = now + lifetime
    session.add(AccessToken(id=token_id, token_hash=_digest(token), role=role_.value, unit_id=unit_id, label=label,
                            created_at=now, expires_at=expires_at))
    audit.append(session, at=now, actor=actor, action="token.issued", subject=f"token:{token_id}",
                 details={"role": role_.value, "unit": unit_id, "expires_at": expires_at.isoformat()})
    return token_id, token


def token_state(row: AccessToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def list_tokens(session: Session, now: datetime) -> list[dict]:
    """Every token with its role, unit, label, dates and state; never its hash."""
    rows = session.execute(select(AccessToken).order_by(AccessToken.created_at, AccessToken.id)).scalars()
    return [{"token_id": r.id, "role": r.role, "unit": r.unit_id, "label": r.label,
             "created_at": r.created_at.isoformat(), "expires_at": r.expires_at.isoformat() if r.expires_at else None,
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None, "state": token_state(r, now)}
            for r in rows]


def revoke_token(session: Session, token_id: str, now: datetime, reason: str, actor: str = "operator:cli") -> dict:
    """Revoke a token at once (its holder gets 401 from the next request); audited with the reason's digest."""
    row = session.get(AccessToken, token_id)
    if row is None:
        raise InvalidCaseInput([FieldError("token_id", "an id from `childsafe tokens list`", repr(token_id))])
    if row.revoked_at is not None:
        raise InvalidCaseInput([FieldError("token_id", "already revoked", row.revoked_at.isoformat())])
    row.revoked_at = now
    audit.append(session, at=now, actor=actor, action="token.revoked", subject=f"token:{token_id}",
                 details={"role": row.role, "unit": row.unit_id,
                          "reason_digest": hashlib.sha256(reason.encode()).hexdigest()})
    return {"token_id": token_id, "state": "revoked", "revoked_at": now.isoformat()}


def authenticate(session: Session, token: str | None, now: datetime) -> Principal:
    """The principal of a valid token; `NotAuthenticated` (401) for a missing, unknown, revoked or expired one."""
    if not token:
        raise NotAuthenticated("no access token: send `Authorization: Bearer <token>`")
    row = session.query(AccessToken).filter_by(token_hash=_digest(token.strip())).one_or_none()
    if row is None or token_state(row, now) != "active":
        raise NotAuthenticated("access token unknown, revoked or expired")
    return Principal(token_id=row.id, role=Role(row.role), unit_id=row.unit_id)


def audit_refused_token(factory: sessionmaker[Session], token: str | None, action: str, case_id: str | None,
                        error: Exception, now: datetime) -> None:
    """Record a 401 in its own transaction: which token (by id, if it is a real one) and why, never the secret."""
    with transaction(factory) as session:
        row = session.query(AccessToken).filter_by(token_hash=_digest(token.strip())).one_or_none() if token else None
        if row is not None:
            subject, why = f"token:{row.id}", token_state(row, now)
        elif token and (m := TOKEN_SHAPE.match(token.strip())) and session.get(AccessToken, m.group(1)) is not None:
            subject, why = f"token:{m.group(1)}", "wrong secret"
        else:
            subject, why = "token:unknown", "missing" if not token else "unknown"
        audit.append(session, at=now, actor="anonymous", action="denied.authenticate", subject=subject,
                     outcome=type(error).__name__, details={"reason": why, "action": action,
                                                            "case_id": case_id or ""})
