"""Directory import (bad rows by line, field and reason; both modes), generator, audiences, fan-out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consumers.directory.audience import UnsupportedAudience, next_guardians, pages
from consumers.directory.csv_import import GOOD_ROWS, import_directory
from consumers.directory.errors import DirectoryImportError
from consumers.directory.generator import write_csv
from consumers.kafka_io import ProduceFailed
from consumers.sms.fanout import AudienceFanout
from consumers.store.db import make_engine
from consumers.store.directory import ChildGuardian, Guardian
from contracts.alert_request import ClassGuardians, ProductHolders, SchoolContacts, SchoolGuardians
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.events import SmsJobEvent
from tests import sms_directory
from tests.fakes import FakeSink
from tests.sms_servers import alert_event

BAD = dict(sms_directory.FILES)
BAD["guardians.csv"] = sms_directory.FILES["guardians.csv"] + (
    "G8,+442079460123,zh-CN\n"      # line 9: a London landline, not a mobile
    "G9,12345,zh-CN\n"              # line 10: not a number
    "G1,+8619900000099,zh-CN\n")    # line 11: duplicate id
BAD["child_guardians.csv"] = sms_directory.FILES["child_guardians.csv"] + "C4,G9,2\nC9,G1,0\n"


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def test_bad_rows_are_reported_by_line_and_field_and_nothing_is_imported(db_url, tmp_path):
    engine = make_engine(db_url)
    with pytest.raises(DirectoryImportError) as caught:
        import_directory(engine, [sms_directory.write(tmp_path / "d", BAD)])
    found = {(p.file, p.line, p.field) for p in caught.value.problems}
    assert {("guardians.csv", 9, "phone"), ("guardians.csv", 10, "phone"), ("guardians.csv", 11, "id"),
            ("child_guardians.csv", 11, "guardian_id"), ("child_guardians.csv", 12, "child_id")} == found
    landline = next(p for p in caught.value.problems if p.line == 9)
    assert "not a mobile" in landline.reason and landline.got == "+442079460123"
    assert count(engine, Guardian) == 0


def test_good_rows_mode_writes_exactly_the_good_rows(db_url, tmp_path):
    engine = make_engine(db_url)
    report = import_directory(engine, [sms_directory.write(tmp_path / "d", BAD)], GOOD_ROWS)
    assert report.written["guardians.csv"] == 7 and report.written["child_guardians.csv"] == 9
    assert len(report.problems) == 5 and count(engine, Guardian) == 7
    again = import_directory(engine, [sms_directory.write(tmp_path / "d")])  # idempotent re-import
    assert not again.problems and count(engine, ChildGuardian) == 9


def test_generated_city_imports_cleanly(db_url, tmp_path):
    engine = make_engine(db_url)
    counts = write_csv(tmp_path / "city", schools=3, guardians=600)
    report = import_directory(engine, [tmp_path / "city"])
    assert report.problems == [] and report.written["guardians.csv"] == counts.files["guardians.csv"] == 600


def test_audiences_page_through_the_directory(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    every = [r for page, _ in pages(engine, SchoolGuardians(school_id="S1"), size=2) for r in page]
    assert [r.recipient_id for r in every] == ["g:G1", "g:G2", "g:G3", "g:G4", "g:G5"]
    firsts = [r.recipient_id for page, _ in pages(engine, SchoolGuardians(school_id="S1"), guaranteed_reach=True)
              for r in page]
    assert firsts == ["g:G1", "g:G4"]  # one per child, siblings' shared guardian once
    assert [r.recipient_id for p, _ in pages(engine, ClassGuardians(school_id="S1", class_id="S1-K2")) for r in p] \
        == ["g:G4", "g:G5"]
    assert [r.recipient_id for p, _ in pages(engine, SchoolContacts(school_id="S2")) for r in p] == ["sc:S2-head"]
    assert [r.recipient_id for r in next_guardians(engine, "G2")] == ["g:G3"]
    with pytest.raises(UnsupportedAudience, match="product_holders"):
        next(pages(engine, ProductHolders(recall_number="SAMR-1")))


def test_fan_out_resumes_after_the_last_acknowledged_page(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    sink = FakeSink(fail_on_flush=2)
    fanout = AudienceFanout(engine, sink, FakeClock(), page_size=2)
    event = alert_event("F1", "S1", priority="urgent")
    with pytest.raises(ProduceFailed):
        fanout.fan_out(event)
    result = fanout.fan_out(event)  # after restart: page 1 was acknowledged, pages 2 and 3 are sent again
    assert result.resumed_after == "G2" and result.emitted == 5
    jobs = [decode(v, SmsJobEvent).data for _, v in sink.sent]
    assert [j.recipient_id for j in jobs] == ["g:G1", "g:G2", "g:G3", "g:G4", "g:G3", "g:G4", "g:G5"]
    assert jobs[0].dedup_key == "F1:g:G1" and sink.sent[0][0] == b"g:G1"
    assert {j.language.value for j in jobs if j.recipient_id == "g:G4"} == {"en"}
    assert "Ref" in next(j.body for j in jobs if j.recipient_id == "g:G4")
    assert "测试学校甲发生火情" in jobs[0].body, "the school's name comes from the directory"
    assert jobs[0].requested_at == event.time, "the latency clock starts when the alert was requested"
    assert fanout.fan_out(event).emitted == 0  # done: a redelivered request emits nothing
