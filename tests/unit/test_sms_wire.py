"""The SMS side of recalls and emergencies: recall_holders / school_list audiences, and cancellations honoured
by the fan-out (before each page) and the dispatcher (never sent; ambiguous sends reconciled first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.gateway import AmbiguousSendError
from consumers.directory.audience import pages
from consumers.kafka_io import ProduceFailed
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.fallback import GuardianFallback
from consumers.sms.fanout import AudienceFanout
from consumers.store.db import make_engine
from contracts.alert_cancel import AlertCancelled
from contracts.alert_request import RecallHolders, SchoolList
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.common import Priority
from contracts.events import SmsJobEvent
from tests import sms_directory
from tests.fakes import LOSE_RESPONSE, FakeSink, transient
from tests.sms_world import NIGHT, job, request, states

# G1 also has a child (C5) at S2, so a list of both schools must tell G1 once
FILES = dict(sms_directory.FILES)
FILES["children.csv"] = sms_directory.FILES["children.csv"] + "C5,S2,S2-K1\n"
FILES["child_guardians.csv"] = sms_directory.FILES["child_guardians.csv"] + "C5,G1,0\n"
FILES["school_contacts.csv"] = sms_directory.FILES["school_contacts.csv"] + (
    f"S1-safety,S1,safety_officer,{sms_directory.G[13]},en,1\n")


def ids(engine, selector, **kw) -> list[str]:
    return [r.recipient_id for page, _ in pages(engine, selector, **kw) for r in page]


@pytest.fixture()
def directory(db_url, tmp_path):
    from consumers.directory.csv_import import import_directory

    engine = make_engine(db_url)
    import_directory(engine, [sms_directory.write(tmp_path / "d", FILES)])
    yield engine
    engine.dispose()


def test_recall_holders_are_the_listed_guardians_and_the_listed_schools_contacts(directory):
    holders = RecallHolders(recall_number="SAMR-1", guardian_ids=["G5", "G2", "G5", "G-UNKNOWN"], school_ids=["S2"])
    assert ids(directory, holders) == ["g:G2", "g:G5", "sc:S2-head"], "each once; unknown ids tell nobody"
    assert ids(directory, holders, size=1) == ["g:G2", "g:G5", "sc:S2-head"], "paging across both sources"
    assert ids(directory, RecallHolders(recall_number="SAMR-1", school_ids=["S1"])) == ["sc:S1-head", "sc:S1-safety"]
    assert ids(directory, RecallHolders(recall_number="SAMR-1")) == []


def test_school_list_tells_contacts_and_guardians_once_each(directory):
    both = SchoolList(school_ids=["S2", "S1", "S2"])
    assert ids(directory, both) == ["g:G1", "g:G2", "g:G3", "g:G4", "g:G5", "g:G6", "g:G7",
                                    "sc:S1-head", "sc:S1-safety", "sc:S2-head"]
    assert ids(directory, both, guaranteed_reach=True) == ["g:G1", "g:G4", "g:G6", "sc:S1-head", "sc:S1-safety",
                                                           "sc:S2-head"], "first guardian of each child"
    assert ids(directory, SchoolList(school_ids=["S2"], include_guardians=False)) == ["sc:S2-head"]


def cancellation(alert_id: str, reason: str = "CAP Cancel") -> AlertCancelled:
    return AlertCancelled(alert_id=alert_id, reason=reason, cancelled_at=datetime(2026, 11, 29, tzinfo=UTC),
                          source_event_id=f"cancel-{alert_id}")


def test_school_list_fan_out_resumes_across_sources_with_the_same_dedup_keys(directory):
    sink = FakeSink(fail_on_flush=4)
    fanout = AudienceFanout(directory, sink, FakeClock(), page_size=2)
    event = request("CAP-1", SchoolList(school_ids=["S1", "S2"]))
    with pytest.raises(ProduceFailed, match="broker down"):
        fanout.fan_out(event)
    result = fanout.fan_out(event)
    assert result.resumed_after == "g:G6", "pages G1-G2, G3-G4, G5-G6 were acknowledged; G7 was not"
    assert result.emitted == 10
    emitted = [decode(v, SmsJobEvent).data for _, v in sink.sent]
    assert {j.dedup_key for j in emitted} == {f"CAP-1:{r}" for r in ids(directory, event.data.audience)}


class CancellingSink(FakeSink):
    """Acknowledges pages; after the first one, the alert's cancellation is recorded (as the dispatcher would)."""

    def __init__(self, book: CancellationBook, alert_id: str):
        super().__init__()
        self.book, self.alert_id, self.flushes = book, alert_id, 0

    def flush(self):
        self.flushes += 1
        if self.flushes == 1:
            self.book.record([cancellation(self.alert_id)])


def test_fan_out_stops_at_the_next_page_once_cancelled_and_a_late_request_emits_nothing(directory):
    clock = FakeClock()
    book = CancellationBook(directory, clock)
    sink = CancellingSink(book, "CAP-2")
    fanout = AudienceFanout(directory, sink, clock, page_size=3)
    result = fanout.fan_out(request("CAP-2", SchoolList(school_ids=["S1", "S2"])))
    assert result.cancelled and result.emitted == 3 and len(sink.sent) == 3, "only the page before the cancellation"
    assert fanout.fan_out(request("CAP-2", SchoolList(school_ids=["S1", "S2"]))).emitted == 0
    book.record([cancellation("CAP-3")])
    late = fanout.fan_out(request("CAP-3", SchoolList(school_ids=["S1"])))
    assert late.cancelled and late.emitted == 0 and len(sink.sent) == 3


def test_dispatcher_never_sends_a_cancelled_alert_and_sent_messages_stay_sent(world):  # noqa: F811
    engine, clock, gateway, ledger, dispatcher = world
    G = sms_directory.G
    dispatcher.dispatch([job("g:G1", G[1], alert="X")])                        # sent before the cancellation
    gateway.fail_next(transient(500))
    dispatcher.dispatch([job("g:G2", G[2], alert="X")])                        # waiting to retry
    gateway.fail_next(LOSE_RESPONSE)
    dispatcher.dispatch([job("g:G3", G[3], alert="X")])                        # at the provider, answer lost
    gateway.fail_next(AmbiguousSendError("connection reset before the provider stored it"))
    dispatcher.dispatch([job("g:G4", G[4], alert="X")])                        # ambiguous, provider never had it
    clock.advance(NIGHT - clock.now())
    dispatcher.dispatch([job("g:G5", G[5], priority=Priority.NORMAL, alert="X")])  # held for quiet hours
    dispatcher.dispatch([job("g:G6", G[6], alert="Y")])                        # another alert: unaffected
    assert states(engine) == {"g:G1": "accepted", "g:G2": "retry", "g:G3": "reconcile", "g:G4": "reconcile",
                              "g:G5": "held", "g:G6": "accepted"}
    stopped = CancellationBook(engine, clock).record([cancellation("X"), cancellation("X")])
    assert stopped == 2, "retry and held rows stop at once; the ambiguous ones wait for reconciliation"
    dispatcher.dispatch([job("g:G7", G[7], alert="X"), job("g:G7", G[7], alert="X#r1")])  # after cancelling
    sent_before = gateway.calls
    clock.advance(timedelta(hours=12))
    dispatcher.sweep()
    assert gateway.calls == sent_before, "nothing of X is sent again"
    assert states(engine) == {"g:G1": "accepted", "g:G2": "cancelled", "g:G3": "accepted", "g:G4": "cancelled",
                              "g:G5": "cancelled", "g:G6": "accepted", "g:G7": "cancelled"}
    assert {m.to for m in gateway.sent.values()} == {G[1], G[3], G[6]}


def test_a_cancelled_alert_hands_nothing_to_the_next_guardian(world):  # noqa: F811
    from tests.fakes import permanent

    engine, clock, gateway, ledger, dispatcher = world
    gateway.by_number[sms_directory.G[1]] = permanent(21610)
    sink = FakeSink()
    dispatcher.dispatch([job("g:G1", sms_directory.G[1], priority=Priority.EMERGENCY, alert="Z")])
    CancellationBook(engine, clock).record([cancellation("Z", "child found")])
    assert GuardianFallback(engine, ledger, sink, clock).emit() == 0 and sink.sent == []
    assert ledger.fallback_rows() == []
