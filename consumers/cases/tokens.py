"""Access tokens: issued once in clear, stored only as a SHA-256 hash, scoped by role and unit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from consumers.cases.access import Principal, Role
from consumers.cases.columns import UtcDateTime
from consumers.cases.errors import InvalidCaseInput, NotAuthenticated
from consumers.store.core import Agency, School
from consumers.store.db import Base
from contracts.common import AgencyKind
from contracts.errors import FieldError

PREFIX = "cst"


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


def issue_token(session: Session, role: str, unit_id: str, now: datetime, label: str = "",
                expires_at: datetime | None = None) -> tuple[str, str]:
    """Create a token; returns (token id, token). The token is shown once and never stored."""
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidCaseInput([FieldError("role", f"one of {', '.join(r.value for r in Role)}", role)]) from None
    _check_unit(session, role_, unit_id)
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(24)}"
    session.add(AccessToken(id=token_id, token_hash=_digest(token), role=role_.value, unit_id=unit_id, label=label,
                            created_at=now, expires_at=expires_at))
    return token_id, token


def authenticate(session: Session, token: str | None, now: datetime) -> Principal:
    if not token:
        raise NotAuthenticated("no access token: send `Authorization: Bearer <token>`")
    row = session.query(AccessToken).filter_by(token_hash=_digest(token.strip())).one_or_none()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise NotAuthenticated("access token unknown, revoked or expired")
    return Principal(token_id=row.id, role=Role(row.role), unit_id=row.unit_id)
