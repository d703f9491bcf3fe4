"""The SMS ledger records each recipient's district when the row is written (the indicators group a month's SMS by
it): through the real fan-out and dispatcher, and for rows that existed before the column (the migration fills them
in from the directory). SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import insert, select, text

from consumers.directory.districts import recipient_districts
from consumers.sms.fanout import AudienceFanout
from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.directory import Child, ChildGuardian, Guardian, SchoolClass, SchoolContact
from consumers.store.migrate import downgrade, upgrade
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.alert_request import AgencyDutyOfficers, SchoolList
from contracts.codec import decode
from contracts.events import SmsJobEvent
from tests import sms_directory
from tests.fakes import FakeSink
from tests.sms_world import job, request

OTHER = "310101"  # sms_directory's S1 and S2 are in 310115


def add_second_district(engine) -> None:
    """S3 in another district: G8 only there; G6 (C4 at S2) also has C5 there, so G6's first school stays S2; a
    contact at S3; a duty officer of 310101's police."""
    factory = session_factory(engine)
    with transaction(factory) as s:
        s.add_all([School(id="S3", name="测试学校丙", district_code=OTHER),
                   Agency(id="ps-310101", kind="public_security", district_code=OTHER, name="测试公安分局"),
                   Guardian(id="G8", phone=sms_directory.G[8])])
        s.flush()
        s.add_all([SchoolClass(id="S3-K1", school_id="S3", name="一班"),
                   SchoolContact(id="S3-head", school_id="S3", role="head", phone=sms_directory.G[13],
                                 language="zh-CN", contact_order=0),
                   DutyOfficer(id="do-310101", agency_id="ps-310101", name="测试值班员", phone=sms_directory.G[14],
                               contact_order=0)])
        s.flush()
        s.add_all([Child(id="C5", school_id="S3", class_id="S3-K1"), Child(id="C6", school_id="S3", class_id="S3-K1")])
        s.flush()
        s.add_all([ChildGuardian(child_id="C5", contact_order=0, guardian_id="G6", school_id="S3", class_id="S3-K1"),
                   ChildGuardian(child_id="C6", contact_order=0, guardian_id="G8", school_id="S3", class_id="S3-K1")])


EXPECTED = {**{f"g:G{i}": "310115" for i in (1, 2, 3, 4, 5, 6, 7)}, "g:G8": OTHER,
            "sc:S1-head": "310115", "sc:S2-head": "310115", "sc:S3-head": OTHER, "do:do-310101": OTHER}


def ledger_districts(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(SmsLedgerEntry.recipient_id, SmsLedgerEntry.district_code)).all())


def test_the_dispatcher_writes_each_recipients_district_on_the_rows_the_fanout_jobs_make(world):
    engine, clock, gateway, ledger, dispatcher = world
    add_second_district(engine)
    sink = FakeSink()
    fanout = AudienceFanout(engine, sink, clock)
    fanout.fan_out(request("A-SCHOOLS", SchoolList(school_ids=["S1", "S2", "S3"], include_guardians=True)))
    fanout.fan_out(request("A-POLICE", AgencyDutyOfficers(district_code=OTHER, agencies=["public_security"])))
    jobs = [decode(value, SmsJobEvent).data for _, value in sink.sent]
    stranger = job("g:G-NOT-IN-DIRECTORY", sms_directory.G[9], alert="A-STRANGER")
    dispatcher.dispatch([*jobs, stranger])
    assert len(gateway.sent) == len(jobs) + 1  # sent as before: the lookup changes nothing else
    assert ledger_districts(engine) == {**EXPECTED, "g:G-NOT-IN-DIRECTORY": None}


def test_the_lookup_places_each_kind_of_recipient_and_leaves_out_the_unknown(world):
    engine = world[0]
    add_second_district(engine)
    with engine.connect() as conn:
        placed = recipient_districts(conn, [*EXPECTED, "g:nobody", "sc:nobody", "do:nobody", "x:G1", "G1", ""])
    assert placed == EXPECTED


def test_the_migration_fills_in_the_district_of_rows_written_before_it(db_url, tmp_path):
    engine = make_engine(db_url)
    downgrade(db_url, "indicators_0001")  # the schema as it was: no district column on the ledger
    sms_directory.load(engine, tmp_path / "dir")
    add_second_district(engine)
    rows = [*EXPECTED, "g:G-GONE", "sc:GONE", "do:GONE"]
    ledger = SmsLedgerEntry.__table__
    with engine.begin() as conn:
        assert "district_code" not in {c[0] for c in conn.execute(text("SELECT * FROM sms_ledger")).keys()}
        conn.execute(insert(ledger), [
            {"dedup_key": f"OLD|{rid}", "alert_id": "OLD", "recipient_id": rid, "marker": f"m{n}", "phone": "+8619900000000",
             "state": "accepted", "provider_status": "delivered", "attempts": 1, "fallback_pending": False,
             "job_json": "{}", "created_at": 1.0e9 + n, "updated_at": 1.0e9 + n} for n, rid in enumerate(rows)])
    upgrade(db_url)
    assert ledger_districts(engine) == {**EXPECTED, "g:G-GONE": None, "sc:GONE": None, "do:GONE": None}
    engine.dispose()
