"""Issue 10 item 10: STOP/退订/TD/START after NFKC and zero-width stripping inside short replies; a signed reply is
durably recorded on sms.status.v1 before the 2xx (a locked database no longer loses 退订); callbacks deduplicated
by (MessageSid, status), so a replayed START cannot undo a later STOP."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.structs import TopicPartition
from sqlalchemy import create_engine, select
from twilio.request_validator import RequestValidator

from alerts.webhook_auth import WebhookVerifier
from consumers.kafka_io import DeadLetters
from consumers.sms.ledger import SmsLedger
from consumers.sms.replies import keyword
from consumers.sms.webhooks import SmsWebhooks, StatusConsumer
from consumers.store.db import make_engine
from consumers.store.directory import OptOut
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.dlq import DeadLetterLimit
from contracts.events import SmsStatusReportedEvent
from contracts.sealed import Keyring, new_key
from tests import sms_directory
from tests.fakes import FakeProducer

TOKEN, PUBLIC = "test-auth-token", "https://childsafe.example.test"
GUARDIAN = sms_directory.G[2]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202e", "\u00ad"]
FULL = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})


@pytest.mark.parametrize("body", ["ＳＴＯＰ", "ＴＤ", "退订\u200b", "请退订", "退订谢谢", "退 订", "td", "Stop.", "STOP please",
                                  "取消订阅", "\u202e退订", "退订🙏", "退订。"])
def test_the_issue_s_stop_spellings_are_stops(body):
    assert keyword(body) == "stop"


@pytest.mark.parametrize("body", ["我想问一下这个通知是关于什么的，里面提到退订是什么意思？", "不要退订", "Don't stop sending",
                                  "Please tell me how the school will stop bullying in class three", "hello", ""])
def test_long_messages_that_mention_the_word_and_negations_are_not(body):
    assert keyword(body) is None


def _obfuscate(word: str, data, spaces: bool = False) -> str:
    """Invisible marks between the letters; a space too between ideographs (退 订)."""
    gaps = ["", ""] + INVISIBLE + ([" ", "\u3000"] if spaces else [])
    out = []
    for ch in word:
        out.append(ch)
        out.append(data.draw(st.sampled_from(gaps)))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), word=st.sampled_from(["STOP", "stop", "TD", "td", "退订", "UNSUBSCRIBE"]),
       full=st.booleans(), before=st.sampled_from(["", "请", " ", "\n", "\u200b", "麻烦"]),
       after=st.sampled_from(["", "谢谢", "。", "!", "！", "\r\n", "🙏", " ok"]))
def test_property_short_replies_with_a_stop_word_in_any_form_are_stops(data, word, full, before, after):
    text = word.translate(FULL) if full else word
    assert keyword(before + _obfuscate(text, data, spaces=not word.isascii()) + after) == "stop"


@settings(max_examples=200, deadline=None)
@given(data=st.data(), word=st.sampled_from(["START", "start", "订阅"]), full=st.booleans())
def test_property_start_in_any_form_is_a_start(data, word, full):
    assert keyword(_obfuscate(word.translate(FULL) if full else word, data)) == "start"


@settings(max_examples=200, deadline=None)
@given(filler=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=24, max_size=200),
       word=st.sampled_from(["退订", "STOP", "TD", "START", "订阅"]))
def test_property_a_long_message_that_mentions_a_keyword_is_not_one(filler, word):
    assert keyword(filler[:10] + word + filler[10:]) is None


class ListJournal:
    """The status topic port: what was recorded, in order; can be made to fail like an unreachable broker."""

    def __init__(self):
        self.recorded: list[bytes] = []
        self.down = False

    def record(self, event) -> None:
        if self.down:
            raise ConnectionError("broker unavailable")
        self.recorded.append(event.to_bytes())


class FakeStatusConsumer:
    """A Kafka consumer port over the journal's records: poll, commit, seek."""

    def __init__(self, journal: ListJournal):
        self.journal, self.position, self.committed = journal, 0, 0

    def poll(self, timeout_ms=0, max_records=500):
        records = [Record(i, v) for i, v in enumerate(self.journal.recorded)][self.position:]
        self.position += len(records)
        return {TopicPartition("t.sms.status.v1", 0): records} if records else {}

    def commit(self, offsets):
        self.committed = max(o.offset for o in offsets.values())

    def seek(self, _tp, offset):
        self.position = offset


class Record:
    def __init__(self, offset, value):
        self.topic, self.partition, self.offset, self.value, self.key = "t.sms.status.v1", 0, offset, value, None


@pytest.fixture()
async def hooks(tmp_path, sqlite_url):
    url = sqlite_url
    engine = make_engine(url)
    sms_directory.load(engine, tmp_path / "dir")
    # the webhook's own engine gives up on a lock quickly, as a busy production database would time out
    impatient = create_engine(url, connect_args={"timeout": 0.2}, hide_parameters=True)
    clock = FakeClock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    journal, keys = ListJournal(), Keyring.parse(f"k1:{new_key()}")
    client = TestClient(TestServer(SmsWebhooks(impatient, WebhookVerifier(TOKEN), PUBLIC, clock, journal=journal,
                                               keyring=keys).app()))
    await client.start_server()
    yield engine, clock, journal, keys, client, Path(url.removeprefix("sqlite:///"))
    await client.close()
    impatient.dispose()
    engine.dispose()


async def reply(client, body: str, sid: str | None = None, path: str = "/sms/inbound"):
    params = {"From": GUARDIAN, "Body": body, "MessageSid": sid or f"SM{uuid.uuid4().hex}"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def opted_out(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(OptOut.phone).where(OptOut.phone == GUARDIAN)).first() is not None


async def test_a_replayed_signed_start_does_not_resubscribe_after_a_later_stop(hooks):
    engine, clock, journal, keys, client, _ = hooks
    assert (await reply(client, "START", sid="SM-start-1")).status == 200
    assert (await reply(client, "退订", sid="SM-stop-1")).status == 200
    assert opted_out(engine)
    replay = await reply(client, "START", sid="SM-start-1")  # the same signed request, sent again
    assert replay.status == 200 and opted_out(engine)


async def test_a_signed_stop_during_a_database_lock_is_recorded_answered_200_and_applied_later(hooks):
    engine, clock, journal, keys, client, path = hooks
    lock = sqlite3.connect(path, timeout=5)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        response = await reply(client, "退订", sid="SM-locked")
    finally:
        lock.rollback()
        lock.close()
    assert response.status == 200 and not opted_out(engine)  # answered, not applied yet: the database was locked
    [recorded] = [decode(v, SmsStatusReportedEvent).data for v in journal.recorded]
    assert recorded.message_sid == "SM-locked" and recorded.status.value == "received"
    wire = journal.recorded[0].decode()
    assert GUARDIAN not in wire and GUARDIAN[3:] not in wire and "退订" not in wire  # sealed on the topic
    letters = DeadLetters(FakeProducer(), "ns", "sms-status", clock, DeadLetterLimit(ratio=0.9, window=100))
    consumer = StatusConsumer(FakeStatusConsumer(journal), engine, clock, keys, dead_letters=letters)
    assert consumer.poll_once() == 1 and opted_out(engine)
    assert consumer.poll_once() == 0
    # the provider retries the same callback, and the consumer reads it again: still one effect, still opted out
    await reply(client, "退订", sid="SM-locked")
    consumer.consumer.position = 0
    consumer.poll_once()
    assert opted_out(engine) and SmsLedger(engine, clock).opted_out({GUARDIAN}) == {GUARDIAN}


async def test_nothing_is_answered_2xx_unless_recorded(hooks):
    engine, clock, journal, keys, client, _ = hooks
    journal.down = True
    response = await reply(client, "STOP")
    assert response.status == 503 and not opted_out(engine)  # the provider retries; nothing was lost


async def test_an_inbound_without_message_sid_is_a_400_naming_it(hooks):
    *_, client, _ = hooks
    params = {"From": GUARDIAN, "Body": "STOP"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/inbound", params)
    response = await client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status == 400 and "message_sid" in await response.text()
