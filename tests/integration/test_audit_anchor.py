"""The audit chain anchored on the real broker: a consistent rewrite of the database passes the chain's own
check but not `childsafe audit verify`, which names the first record that diverges from its anchor."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select, text

from consumers.cases.anchor import anchored_records
from consumers.cases.anchor_log import KafkaAnchorLog
from consumers.cases.audit import AuditHead, AuditRecord, record_hash
from consumers.kafka_io import AcknowledgedProducer
from ops.bootstrap import run_escalation
from ops.cli import main
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests.cases_fixtures import CaseWorld, open_case

CASE = "case-000001"


@pytest.fixture()
def world(kafka_bootstrap, namespace, db_url, monkeypatch):
    apply_topics(kafka_bootstrap, namespace)
    for name, value in {"BOOTSTRAP_SERVERS": kafka_bootstrap, "TOPIC_NAMESPACE": namespace,
                        "DATABASE_URL": db_url}.items():
        monkeypatch.setenv(f"CHILDSAFE_{name}", value)
    w = CaseWorld(db_url)
    w.open(open_case(1))
    w.lead = w.token("police_duty_officer", "ps-310115")
    w.desk.view_case(w.lead, CASE)
    w.desk.reporter(w.lead, CASE)  # the record a rewriter wants gone: who read the reporter's identity
    w.desk.acknowledge(w.lead, CASE)
    w.settings = Settings()
    w.anchors = KafkaAnchorLog(kafka_bootstrap, f"{namespace}.audit.v1",
                               AcknowledgedProducer(kafka_bootstrap, "childsafe-audit-anchor"))
    yield w
    w.anchors.publisher.close()
    w.close()


def _verify(capsys, *extra) -> tuple[int, dict]:
    code = main(["audit", "verify", *extra])
    return code, json.loads(capsys.readouterr().out)


def _reporter_read_seq(world) -> int:
    with world.transaction() as s:
        return s.execute(select(AuditRecord.seq).where(AuditRecord.action == "case.reporter.read")).scalar_one()


def _rewrite_without(world, seq: int) -> None:
    """What an insider with database write access does: delete a record, renumber and re-hash the rest, and
    move the head, so that the chain checks out on its own."""
    with world.transaction() as s:
        s.execute(text("DELETE FROM case_audit_log WHERE seq = :seq"), {"seq": seq})
        later = s.execute(text("SELECT seq FROM case_audit_log WHERE seq > :seq ORDER BY seq"), {"seq": seq}).scalars()
        for old in list(later):
            s.execute(text("UPDATE case_audit_log SET seq = :new WHERE seq = :old"), {"new": old - 1, "old": old})
    with world.transaction() as s:
        prev = s.get(AuditRecord, seq - 1).hash
        for rec in s.execute(select(AuditRecord).where(AuditRecord.seq >= seq).order_by(AuditRecord.seq)).scalars():
            rec.prev_hash = prev
            rec.hash = prev = record_hash(rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.outcome,
                                          rec.details, rec.prev_hash)
            last = rec.seq
        head = s.get(AuditHead, 1)
        head.last_seq, head.last_hash = last, prev


def _wait(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_a_consistent_rewrite_passes_the_chain_but_not_the_anchors(world, capsys):
    run_escalation(world.settings, threading.Event(), once=True)  # the scheduled anchor (first tick)
    world.desk.note(world.lead, CASE, "TEST note after the scheduled anchor")
    code, report = _verify(capsys)  # checks, then anchors the newer records too
    assert code == 0 and report["ok"] and report["anchored"] > 0
    with world.transaction() as s:
        total = s.execute(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert max(anchored_records(world.anchors.read())) == total

    seq = _reporter_read_seq(world)
    _rewrite_without(world, seq)
    code, offline = _verify(capsys, "--offline")
    assert code == 0 and offline["ok"], "the threat: the database chain alone cannot see a consistent rewrite"
    code, report = _verify(capsys)
    assert code == 1 and not report["ok"]
    assert report["problems"][0].startswith(f"record {seq} (case.reporter.read on {CASE}, anchored at ")
    assert "differs from its anchor" in report["problems"][0]
    assert max(anchored_records(world.anchors.read())) == total, "a failing verify must not anchor the forgery"


def test_deleting_anchored_records_from_the_end_is_named(world, capsys):
    assert _verify(capsys)[0] == 0
    with world.transaction() as s:
        last = s.get(AuditHead, 1).last_seq
        s.execute(text("DELETE FROM case_audit_log WHERE seq = :seq"), {"seq": last})
        head = s.get(AuditHead, 1)
        head.last_seq, head.last_hash = last - 1, s.get(AuditRecord, last - 1).hash
    assert _verify(capsys, "--offline")[0] == 0
    code, report = _verify(capsys)
    assert code == 1 and "is missing from the database: deleted after it was anchored" in report["problems"][0]
    assert report["problems"][0].startswith(f"record {last} ")


def test_the_escalation_loop_anchors_new_records_on_its_schedule(world):
    settings = world.settings.model_copy(update={"case_tick_seconds": 0.1, "audit_anchor_seconds": 0.3})
    stop = threading.Event()
    loop = threading.Thread(target=run_escalation, args=(settings, stop), daemon=True)
    loop.start()
    try:
        for n in range(3):
            world.desk.note(world.lead, CASE, f"TEST note {n}")
            with world.transaction() as s:
                head = s.get(AuditHead, 1)
                want = (head.last_seq, head.last_hash)
            anchored = _wait(lambda want=want: (a := anchored_records(world.anchors.read())) and want[0] in a and a)
            assert anchored[want[0]].hash == want[1]
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive()
