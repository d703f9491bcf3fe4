"""The audit trail: every action and read is chained; editing or deleting any row makes `verify` name it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from consumers.cases.audit import AuditRecord, verify
from consumers.cases.tokens import AccessToken
from ops.cli import main
from tests.cases_fixtures import SCHOOL, CaseWorld, open_case


@pytest.fixture()
def world(db_url):
    w = CaseWorld(db_url)
    w.open(open_case(1))
    police = w.token("police_duty_officer", "ps-310115")
    w.desk.view_case(police, "case-000001")
    w.desk.acknowledge(police, "case-000001")
    w.desk.list_cases(police)
    w.desk.note(police, "case-000001", "TEST note")
    yield w
    w.close()


def _verify_cli(world, monkeypatch, capsys) -> tuple[int, dict]:
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", world.url)
    code = main(["audit", "verify", "--offline"])
    return code, json.loads(capsys.readouterr().out)


def _execute(world, sql: str) -> None:
    with world.transaction() as s:
        s.execute(text(sql))


def test_actions_and_reads_are_chained_and_verify(world, monkeypatch, capsys):
    with world.transaction() as s:
        actions = s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars().all()
    assert {"case.transition", "case.read", "cases.list", "case.note"} <= set(actions)
    code, report = _verify_cli(world, monkeypatch, capsys)
    assert code == 0 and report["ok"] and report["checked"] == len(actions)


@pytest.mark.parametrize("column,value", [("outcome", "'denied'"), ("actor", "'someone-else'"),
                                          ("subject", "'case-999999'"), ("details", """'{"event_id": 99}'""")])
def test_an_edited_record_is_named(world, monkeypatch, capsys, column, value):
    _execute(world, f"UPDATE case_audit_log SET {column} = {value} WHERE seq = 3")
    code, report = _verify_cli(world, monkeypatch, capsys)
    assert code == 1 and any(p.startswith("record 3 edited") for p in report["problems"])


def test_an_edited_timestamp_is_named(world):
    with world.transaction() as s:
        row = s.get(AuditRecord, 2)
        row.at = row.at.replace(year=2025)
    with world.transaction() as s:
        assert any(p.startswith("record 2 edited") for p in verify(s).problems)


def test_a_deleted_record_in_the_middle_is_named(world, monkeypatch, capsys):
    _execute(world, "DELETE FROM case_audit_log WHERE seq = 4")
    code, report = _verify_cli(world, monkeypatch, capsys)
    assert code == 1 and "record(s) 4 deleted (chain jumps to 5)" in report["problems"]


def test_deleting_the_newest_records_is_named(world):
    with world.transaction() as s:
        last = s.execute(select(func.max(AuditRecord.seq))).scalar_one()
    _execute(world, f"DELETE FROM case_audit_log WHERE seq >= {last - 1}")
    with world.transaction() as s:
        problems = verify(s).problems
    assert problems == [f"record(s) {last - 1}..{last} deleted from the end of the trail"]


def test_a_rehashed_record_still_breaks_the_next_link(world):
    """Recomputing an edited record's own hash is not enough: the next record's link no longer matches."""
    from consumers.cases.audit import record_hash

    with world.transaction() as s:
        row = s.get(AuditRecord, 2)
        row.outcome = "forged"
        row.hash = record_hash(row.seq, row.at, row.actor, row.action, row.subject, row.outcome, row.details,
                               row.prev_hash)
    with world.transaction() as s:
        assert "record 3: previous-hash link broken" in verify(s).problems


def test_tokens_create_stores_only_a_hash(world, monkeypatch, capsys):
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", world.url)
    assert main(["tokens", "create", "--role", "school_officer", "--unit", SCHOOL, "--label", "Test desk"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    with world.transaction() as s:
        hashes = s.execute(select(AccessToken.token_hash)).scalars().all()
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    assert [c["case_id"] for c in world.desk.list_cases(token)] == ["case-000001"]
    assert main(["tokens", "create", "--role", "police_duty_officer", "--unit", "edu-310115"]) == 2
    assert "unit: a police duty officer's unit must be a public_security agency" in capsys.readouterr().err
