"""The directory's reference topics (holdings, school places) built from the database, the generator's product
data valid against the recall contracts, the import refusing what would never match, and CAP export."""

from __future__ import annotations

from sqlalchemy import insert, update

from consumers.directory.bulk_load import load_generated
from consumers.directory.csv_import import GOOD_ROWS, import_directory
from consumers.directory.generator import generate_rows
from consumers.directory.reference_topics import publish_reference
from consumers.sms.fanout import AudienceFanout
from consumers.store.core import School
from consumers.store.db import make_engine
from consumers.store.directory import ProductRegistration
from contracts.cap import from_cap
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.recall import ProductKind, gtin_check_digit_ok
from contracts.topics import REGISTRATIONS, SCHOOL_LOCATIONS
from ops.cli import main
from tests import sms_directory
from tests.databases import migrated_template, sqlite_copy
from tests.fakes import FakeSink
from tests.sms_world import request


def test_generated_registrations_carry_contract_kinds_and_valid_barcodes():
    regs = [row for name, row in generate_rows(40, 4000) if name == "product_registrations.csv"]
    assert len(regs) > 100
    assert {r["product_kind"] for r in regs} <= {k.value for k in ProductKind}
    assert {"playground_equipment", "child_car_seat"} & {r["product_kind"] for r in regs}
    assert all(gtin_check_digit_ok(r["barcode"]) for r in regs)


def test_publish_sends_each_holder_once_with_its_full_product_list_and_every_located_school(db_url):
    engine = make_engine(db_url)
    counts = load_generated(engine, schools=6, guardians=1200)
    with engine.begin() as conn:  # a second product for one school, a row from before kinds were checked
        conn.execute(insert(ProductRegistration).values(
            id="PR-EXTRA", holder_kind="school", holder_id="SCH00001", product_kind="crib", product_name="婴儿床",
            brand="测试童床", model="BB-12", batch="B1", barcode="6901234567892"))
        conn.execute(insert(ProductRegistration).values(
            id="PR-OLD", holder_kind="guardian", holder_id="G0000001", product_kind="stroller", product_name="推车"))
        conn.execute(update(School).where(School.id == "SCH00005").values(lat=None))
    holdings, schools = FakeSink(), FakeSink()
    report = publish_reference(engine, holdings, schools, FakeClock())
    records = {k.decode(): decode(v, REGISTRATIONS).data for k, v in holdings.sent}
    assert len(records) == len(holdings.sent) == report.holders, "one record per holder"
    assert report.products == counts.files["product_registrations.csv"] + 1
    assert "school:SCH00001" in records and "PR-EXTRA" in {p.registration_id for p in records["school:SCH00001"].products}
    assert all(k == h.holder_key for k, h in records.items())
    places = [decode(v, SCHOOL_LOCATIONS).data for _, v in schools.sent]
    assert [p.school_id for p in places] == ["SCH00000", "SCH00001", "SCH00002", "SCH00003", "SCH00004"]
    assert any("PR-OLD" in p and "product_kind" in p for p in report.problems)
    assert any("SCH00005" in p and "lat/lon" in p for p in report.problems)
    engine.dispose()


def test_import_refuses_unknown_product_kinds_and_bad_check_digits(tmp_path):

    url = sqlite_copy(migrated_template(), tmp_path / "d.db")
    files = dict(sms_directory.FILES)
    files["product_registrations.csv"] = (
        "id,holder_kind,holder_id,product_kind,product_name,brand,model,batch,barcode\n"
        "P1,guardian,G1,child_car_seat,安全座椅,测试安途,TS-FIX,B1,6901234567892\n"
        "P2,guardian,G2,stroller,推车,,,,\n"
        "P3,school,S1,crib,婴儿床,测试童床,BB-12,,6901234567893\n")
    report = import_directory(make_engine(url), [sms_directory.write(tmp_path / "d", files)], GOOD_ROWS)
    found = {(p.line, p.field): p.reason for p in report.problems}
    assert set(found) == {(3, "product_kind"), (4, "barcode")} and "check digit" in found[(4, "barcode")]
    assert report.written["product_registrations.csv"] == 1


def test_cap_export_prints_valid_cap_of_a_sent_alert(tmp_path, monkeypatch, capsysbinary):

    url = sqlite_copy(migrated_template(), tmp_path / "x.db")
    engine = make_engine(url)
    sms_directory.load(engine, tmp_path / "d")
    from contracts.alert_request import SchoolList

    AudienceFanout(engine, FakeSink(), FakeClock()).fan_out(request("cap:drill-1", SchoolList(school_ids=["S1"]),
                                                                    exercise=True))
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", url)
    assert main(["cap", "export", "cap:drill-1"]) == 0
    xml = capsysbinary.readouterr().out
    assert xml.startswith(b"<?xml") and b"<status>Exercise</status>" in xml
    back = from_cap(xml)  # validates against the OASIS XSD again on the way in
    assert back.is_exercise and back.identifier == "cap:drill-1" and "S1" in back.areas[0].area_desc
    assert main(["cap", "export", "no-such-alert"]) == 2
    assert b"no alert 'no-such-alert'" in capsysbinary.readouterr().err
