"""People's accounts (role × unit, like the desk tokens), their sessions and sign-in attempts.

Passwords are hashed with argon2id (argon2-cffi); a session is a desk access token issued at
sign-in (so every page goes through the desk's own authentication and scoping) plus this row,
which holds the CSRF secret and the idle clock.
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.errors import AccountError
from consumers.cases.access import Role
from consumers.cases.columns import UtcDateTime
from consumers.cases.errors import InvalidCaseInput
from consumers.cases.tokens import _check_unit as check_unit  # the desk's rule: which unit a role may act for
from consumers.store.db import Base

HASHER = PasswordHasher()  # argon2id with the library's recommended parameters (RFC 9106 low-memory profile)
MIN_PASSWORD = 10
PEOPLE_ROLES = (Role.SCHOOL_OFFICER, Role.POLICE_DUTY_OFFICER, Role.AGENCY_DUTY_OFFICER, Role.SUPERVISOR,
                Role.EMERGENCY_MANAGER, Role.INDICATORS_PROVINCE, Role.INDICATORS_CITY)
_DUMMY: dict[int, str] = {}  # per hasher: a hash to verify against for unknown names, so timing does not tell


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConsoleSession(Base):
    """One signed-in browser; `token_id` is the desk token its cookie carries."""

    __tablename__ = "console_sessions"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SignInAttempt(Base):
    """Throttling memory: failures per account name within a window (the name is hashed, never stored raw)."""

    __tablename__ = "console_signin_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name_digest: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


def _username(value: str) -> str:
    value = (value or "").strip()
    if not (3 <= len(value) <= 64) or not all(c.isascii() and (c.isalnum() or c in "._-") for c in value):
        raise AccountError(f"username: 3-64 letters, digits, '.', '_' or '-'; got {value[:70]!r}")
    return value


def create_user(session: Session, username: str, password: str, role: str, unit_id: str, display_name: str,
                now: datetime, hasher: PasswordHasher = HASHER) -> ConsoleUser:
    username = _username(username)
    try:
        role_ = Role(role)
    except ValueError:
        raise AccountError(f"role: one of {', '.join(r.value for r in PEOPLE_ROLES)}; got {role!r}") from None
    if role_ not in PEOPLE_ROLES:
        raise AccountError(f"role: one of {', '.join(r.value for r in PEOPLE_ROLES)}; got {role!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    display_name = (display_name or username).strip()[:100]
    try:
        check_unit(session, role_, unit_id)
    except InvalidCaseInput as exc:
        raise AccountError(str(exc)) from None
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise AccountError(f"username: {username!r} already exists")
    user = ConsoleUser(username=username, display_name=display_name, role=role_.value, unit_id=unit_id,
                       password_hash=hasher.hash(password), created_at=now)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> ConsoleUser | None:
    return session.scalar(select(ConsoleUser).where(ConsoleUser.username == (username or "").strip()))


def password_matches(user: ConsoleUser | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """argon2 verification; an unknown user still costs one verification, so timing does not tell."""
    if user is None and id(hasher) not in _DUMMY:
        _DUMMY[id(hasher)] = hasher.hash("not-a-password-only-equalises-timing")
    try:
        return hasher.verify(user.password_hash if user else _DUMMY[id(hasher)], password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def list_users(session: Session) -> list[dict]:
    users = session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)).all()
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "unit": u.unit_id,
             "created_at": u.created_at.isoformat(), "disabled": u.disabled_at is not None} for u in users]
