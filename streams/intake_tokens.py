"""Intake tokens: who may post which kinds of report, as which sender. Stored only as SHA-256 hashes.

A token names its routes (``incidents``, ``safety-reports``, ``recalls``, ``emergency-alerts``) and one
sender identity: a school (its reports must carry that ``school_id``), a regulator (its recalls carry
its id as the CloudEvent ``source``), a CAP sender (its alerts must carry that ``sender``), or the web
console (it reports for the school its signed-in officer belongs to, so it may name any ``school_id``;
its events carry the console's source). The book is
a JSON file of hashes written by ``childsafe intake token``; every worker re-reads it when it
changes, so a new or revoked token needs no restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from contracts.errors import ContractError, FieldError

PREFIX = "cit"
_TOKEN = re.compile(r"^cit_([0-9a-f]{12})_[A-Za-z0-9_-]{20,64}$", re.ASCII)
SENDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$", re.ASCII)  # CAP senders are often e-mail-like


class SenderKind(StrEnum):
    SCHOOL = "school"
    REGULATOR = "regulator"
    CAP = "cap"
    CONSOLE = "console"  # the web console: sends for the school of the officer it signed in (console/officer.py)


# Which routes each kind of sender may ever be given, and the payload field that must name the sender.
ROUTES_BY_KIND = {SenderKind.SCHOOL: ("incidents", "safety-reports"), SenderKind.REGULATOR: ("recalls",),
                  SenderKind.CAP: ("emergency-alerts",),
                  SenderKind.CONSOLE: ("incidents", "safety-reports", "emergency-alerts")}  # CAP sender: the manager's unit
SENDER_FIELD = {SenderKind.SCHOOL: "school_id", SenderKind.REGULATOR: None, SenderKind.CAP: "sender",
                SenderKind.CONSOLE: None}


@dataclass(frozen=True)
class IntakeToken:
    id: str
    digest: str
    routes: tuple[str, ...]
    sender_kind: SenderKind
    sender_id: str
    label: str = ""
    created_at: str = ""
    expires_at: str | None = None

    @property
    def source(self) -> str:
        """The CloudEvent source every event this token submits carries: who sent it, authenticated."""
        return f"/childsafe/intake/{self.sender_kind.value}/{self.sender_id.replace('@', ':')}"

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now


LOCAL = IntakeToken(id="local", digest="", routes=(), sender_kind=SenderKind.SCHOOL, sender_id="local")
"""The identity of every request when the intake runs open on loopback (CHILDSAFE_INTAKE_INSECURE_LOCAL)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IntakeTokenBook:
    """The hashed tokens in one JSON file, re-read when its modification time changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._by_id: dict[str, IntakeToken] = {}

    def tokens(self) -> dict[str, IntakeToken]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._by_id = None, {}
            return self._by_id
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            rows = json.loads(self.path.read_text(encoding="utf-8")) if st.st_size else []
            self._by_id = {r["id"]: IntakeToken(**{**r, "routes": tuple(r["routes"]),
                                                  "sender_kind": SenderKind(r["sender_kind"])}) for r in rows}
            self._stamp = stamp
        return self._by_id

    def authenticate(self, supplied: str, now: datetime) -> IntakeToken | None:
        match = _TOKEN.match(supplied)
        if match is None:
            return None
        token = self.tokens().get(match.group(1))
        if token is None or not hmac.compare_digest(token.digest, _digest(supplied)) or token.expired(now):
            return None
        return token

    def issue(self, routes: list[str], sender_kind: str, sender_id: str, now: datetime, label: str = "",
              expires_at: datetime | None = None) -> tuple[IntakeToken, str]:
        """Add a token; returns it and its clear text (shown once, never stored)."""
        try:
            kind = SenderKind(sender_kind)
        except ValueError:
            raise ContractError([FieldError("sender_kind", f"one of {', '.join(k.value for k in SenderKind)}",
                                            sender_kind)]) from None
        if not SENDER_ID.match(sender_id):
            raise ContractError([FieldError("sender_id", "1-100 ASCII letters, digits or _.:@-", sender_id[:80])])
        allowed = ROUTES_BY_KIND[kind]
        bad = [r for r in routes if r not in allowed]
        if not routes or bad:
            raise ContractError([FieldError("routes", f"a {kind.value} may post to: {', '.join(allowed)}",
                                            ",".join(bad) or "(none)")])
        token_id = secrets.token_hex(6)
        clear = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(24)}"
        token = IntakeToken(id=token_id, digest=_digest(clear), routes=tuple(dict.fromkeys(routes)), sender_kind=kind,
                            sender_id=sender_id, label=label, created_at=now.isoformat(),
                            expires_at=expires_at.isoformat() if expires_at else None)
        rows = [asdict(t) for t in self.tokens().values()] + [asdict(token)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False) as tmp:
            json.dump(rows, tmp, ensure_ascii=False, indent=1)
        os.chmod(tmp.name, 0o600)
        os.replace(tmp.name, self.path)  # atomic: a worker never reads half a file
        return token, clear
