"""Inbound SMS: opt-out and opt-in keywords, and acknowledgements of alerts that asked for one.

A reply is read after NFKC (full-width ＳＴＯＰ → STOP) with zero-width and direction marks removed, and
a keyword counts inside a *short* reply (请退订, 退订谢谢, 退 订, "STOP please") but not in a long message
that merely mentions it, nor after a negation (不要退订). Each reply is applied once per MessageSid, in the
same transaction as its effect, so a replayed START cannot undo a later STOP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from consumers.sms.ledger import T
from consumers.store.directory import OptOut
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsCallbackToken
from contracts.clock import Clock

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD"})
STOP_CJK = ("退订", "取消订阅", "退定")
START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
START_CJK = ("订阅", "重新订阅")
NEGATIONS = ("不要", "不", "别", "勿", "无需", "不用")
LATIN_NEGATIONS = frozenset({"NOT", "DON", "DONT", "NO", "NEVER"})
ACK_WORDS = frozenset({"1", "收到", "OK", "YES", "ACK", "已收到"})
REMINDER = "#r"
SHORT_WORDS = 4  # a Latin reply of at most this many words may carry a keyword
SHORT_CJK = 8  # a CJK reply of at most this many characters (spaces and punctuation removed)
SHORT_LATIN = 24  # a reply with a Latin keyword, at most this many letters and digits in all
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")


def base_alert(alert_id: str) -> str:
    """A reminder round (``<alert>#r1``) acknowledges the alert it repeats."""
    return alert_id.split(REMINDER, 1)[0]


def normalise(body: str) -> str:
    """NFKC, invisible characters removed, upper case: what a keyword is matched against."""
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", body)).upper()


def _compact(text: str) -> str:
    """Letters, digits and ideographs only: spaces, punctuation, emoji and symbols removed."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def _cjk_keyword(compact: str, words: tuple[str, ...]) -> bool:
    if len(compact) > SHORT_CJK:
        return False
    for word in words:
        at = compact.find(word)
        if at >= 0 and not any(compact[:at].endswith(n) for n in NEGATIONS):
            return True
    return False


def keyword(body: str) -> str | None:
    """``stop`` | ``start`` | ``ack`` | None for one inbound message."""
    text = normalise(body)
    compact = _compact(text)
    words = re.findall(r"[A-Z0-9]+", text)
    latin_short = (0 < len(words) <= SHORT_WORDS and len(compact) <= SHORT_LATIN
                   and not LATIN_NEGATIONS & set(words))
    letters = "".join(words)  # "S T O P": a keyword spelled with gaps
    spaced = len(compact) - len(letters) <= SHORT_CJK
    if _cjk_keyword(compact, STOP_CJK) or (latin_short and STOP_WORDS & set(words)) or \
            (spaced and letters in STOP_WORDS):
        return "stop"
    if _cjk_keyword(compact, START_CJK) or (latin_short and START_WORDS & set(words)) or \
            (spaced and letters in START_WORDS):
        return "start"
    if compact in ACK_WORDS:
        return "ack"
    return None


@dataclass(frozen=True)
class ReplyHandled:
    action: str  # opt_out | opt_in | ack | ack_nothing_pending | ignored | duplicate
    alert_id: str | None = None


def _insert(conn: Connection, table, values: dict):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()


def first_time(conn: Connection, sid: str, status: str, clock: Clock) -> bool:
    """Record (MessageSid, status) as applied; False if it already was (a provider retry or a replay)."""
    table = SmsCallbackToken.__table__
    return conn.execute(_insert(conn, table, dict(token=f"sid:{sid}:{status}"[:200], received_at=clock.now()))
                        .returning(table.c.token)).first() is not None


def handle_reply(engine: Engine, clock: Clock, from_number: str, body: str, sid: str | None = None) -> ReplyHandled:
    """Apply one inbound reply, once per MessageSid (when it has one), in one transaction with its effect."""
    with engine.begin() as conn:
        if sid and not first_time(conn, sid, "received", clock):
            return ReplyHandled("duplicate")
        action = keyword(body)
        if action == "stop":
            conn.execute(_insert(conn, OptOut.__table__, dict(phone=from_number, source="inbound_stop",
                                                              opted_out_at=clock.now())))
            return ReplyHandled("opt_out")
        if action == "start":
            conn.execute(delete(OptOut).where(OptOut.phone == from_number))
            return ReplyHandled("opt_in")
        if action == "ack":
            return _acknowledge(conn, clock, from_number, normalise(body).strip())
    return ReplyHandled("ignored")


def _acknowledge(conn: Connection, clock: Clock, phone: str, body: str) -> ReplyHandled:
    """The newest alert sent to this number that asks for an acknowledgement is the one acknowledged."""
    rows = conn.execute(select(T.c.alert_id, T.c.recipient_id).where(T.c.phone == phone, T.c.sid.is_not(None))
                        .order_by(T.c.created_at.desc(), T.c.id.desc()).limit(20)).all()
    for alert_id, recipient_id in rows:
        wanted = conn.execute(select(SmsAlert.requires_ack).where(SmsAlert.alert_id == base_alert(alert_id))).scalar()
        if wanted:
            conn.execute(_insert(conn, SmsAcknowledgement.__table__, dict(
                alert_id=base_alert(alert_id), recipient_id=recipient_id, phone=phone, body=body[:160],
                received_at=clock.now())))
            return ReplyHandled("ack", base_alert(alert_id))
    return ReplyHandled("ack_nothing_pending")
