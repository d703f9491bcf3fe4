"""Signing people in and out: throttled, audited, and backed by a desk access token scoped like the user.

Sign-in issues a desk token for the user's role × unit (`consumers.cases.tokens.issue_token`); the
browser's cookie carries it, so every page authenticates and scopes through the desk's own code.
The session row adds what a browser needs on top: a CSRF secret, an idle clock and an end.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from console.accounts import HASHER, ConsoleSession, ConsoleUser, SignInAttempt, find_user, password_matches
from console.errors import SignInRefused
from consumers.cases import audit
from consumers.cases.access import Principal
from consumers.cases.errors import NotAuthenticated
from consumers.cases.tokens import AccessToken, authenticate, issue_token, revoke_token
from consumers.store.db import transaction
from contracts.clock import Clock


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    max_failures: int = 5  # per account name within `failure_window`, then refused until the window passes
    failure_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Identity:
    """The signed-in person as the pages see them."""

    principal: Principal
    username: str
    display_name: str
    user_id: int
    csrf: str


def name_digest(username: str) -> str:
    return hashlib.sha256((username or "").strip().lower().encode()).hexdigest()


class SignIn:
    def __init__(self, factory: sessionmaker[Session], clock: Clock, policy: SessionPolicy = SessionPolicy(),
                 hasher: PasswordHasher = HASHER):
        self.factory, self.clock, self.policy, self.hasher = factory, clock, policy, hasher

    def sign_in(self, username: str, password: str) -> tuple[str, Identity]:
        """Returns (cookie value, identity); raises SignInRefused (already audited) otherwise."""
        digest = name_digest(username)
        with transaction(self.factory) as session:
            now = self.clock.now()
            since = now - self.policy.failure_window
            failures = session.scalar(select(func.count()).select_from(SignInAttempt).where(
                SignInAttempt.name_digest == digest, SignInAttempt.at > since, SignInAttempt.ok.is_(False)))
            user = find_user(session, username)
            actor = f"console:{user.username}" if user else "console:unknown"
            if failures >= self.policy.max_failures:
                reason = "throttled"
            elif not password_matches(user, password or "", self.hasher):
                reason = "wrong_password" if user else "unknown_user"
            elif user.disabled_at is not None:
                reason = "disabled"
            else:
                reason = ""
            session.add(SignInAttempt(name_digest=digest, at=now, ok=not reason))
            if reason:
                audit.append(session, at=now, actor=actor, action="console.signin", subject="console",
                             outcome=reason, details={"name_digest": digest[:16]})
                refusal = SignInRefused(reason, int(self.policy.failure_window.total_seconds())
                                        if reason == "throttled" else 0)
            else:
                token_id, token = issue_token(session, user.role, user.unit_id, now,
                                              label=f"console session of {user.username}",
                                              lifetime=self.policy.lifetime, actor=f"console:{user.username}")
                expires = now + self.policy.lifetime
                csrf = secrets.token_urlsafe(32)
                session.add(ConsoleSession(token_id=token_id, user_id=user.id, csrf=csrf, created_at=now,
                                           last_seen_at=now, expires_at=expires))
                audit.append(session, at=now, actor=f"{user.role}:{user.unit_id}:{token_id}", action="console.signin",
                             subject=user.unit_id, details={"user": user.username})
                principal = authenticate(session, token, now)
                return token, Identity(principal, user.username, user.display_name, user.id, csrf)
        raise refusal

    def resolve(self, cookie: str | None) -> Identity | None:
        """The identity behind a cookie, or None; a session idle too long or of a disabled user is ended."""
        if not cookie:
            return None
        with transaction(self.factory) as session:
            now = self.clock.now()
            try:
                principal = authenticate(session, cookie, now)
            except NotAuthenticated:
                return None
            row = session.get(ConsoleSession, principal.token_id)
            if row is None or row.ended_at is not None:
                return None
            user = session.get(ConsoleUser, row.user_id)
            why = ("disabled" if user.disabled_at is not None else
                   "idle" if now - row.last_seen_at > self.policy.idle else "")
            if why:
                _end(session, row, now, f"console.session.{why}", principal.actor)
                return None
            row.last_seen_at = now
            return Identity(principal, user.username, user.display_name, user.id, row.csrf)

    def sign_out(self, identity: Identity) -> None:
        with transaction(self.factory) as session:
            row = session.get(ConsoleSession, identity.principal.token_id)
            if row is not None and row.ended_at is None:
                _end(session, row, self.clock.now(), "console.signout", identity.principal.actor)


def _end(session: Session, row: ConsoleSession, now: datetime, action: str, actor: str) -> None:
    row.ended_at = now
    token = session.get(AccessToken, row.token_id)
    if token is not None and token.revoked_at is None:  # revoked like any desk token: audited as token.revoked
        revoke_token(session, row.token_id, now, reason=action, actor=actor)
    audit.append(session, at=now, actor=actor, action=action, subject="console")


def disable_user(session: Session, username: str, now: datetime) -> int:
    """Disable an account and end its sessions now (their desk tokens are revoked). Returns sessions ended."""
    user = find_user(session, username)
    if user is None:
        from console.errors import AccountError

        raise AccountError(f"username: no account {username!r}")
    user.disabled_at = user.disabled_at or now
    rows = session.scalars(select(ConsoleSession).where(ConsoleSession.user_id == user.id,
                                                        ConsoleSession.ended_at.is_(None))).all()
    for row in rows:
        _end(session, row, now, "console.session.disabled", f"operator:console:{user.username}")
    audit.append(session, at=now, actor="operator:cli", action="console.user.disable", subject=user.username)
    return len(rows)
