"""Token lifecycle: a default expiry, `tokens list|revoke`, and issuance, revocation and refusals audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from consumers.cases.api import build_app
from consumers.cases.audit import AuditRecord
from consumers.cases.errors import NotAuthenticated
from consumers.cases.tokens import AccessToken
from ops.cli import main
from tests.cases_fixtures import SCHOOL, CaseWorld, open_case

CASE = "case-000001"


@pytest.fixture()
def world(db_url, monkeypatch):
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", db_url)
    w = CaseWorld(db_url)
    w.open(open_case(1))
    yield w
    w.close()


def _cli(capsys, *argv) -> tuple[int, object]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else out.err)


def _audit(world, action: str) -> list[AuditRecord]:
    with world.transaction() as s:
        rows = s.execute(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)).scalars()
        return [(r.actor, r.subject, r.outcome, r.details) for r in rows]


def test_created_tokens_expire_by_default_and_the_setting_changes_it(world, capsys, monkeypatch):
    code, made = _cli(capsys, "tokens", "create", "--role", "school_officer", "--unit", SCHOOL)
    assert code == 0
    created = datetime.fromisoformat(made["expires_at"]) - timedelta(days=90)
    assert abs((created - datetime.now(UTC)).total_seconds()) < 60
    monkeypatch.setenv("CHILDSAFE_CASE_TOKEN_DAYS", "7")
    _, short = _cli(capsys, "tokens", "create", "--role", "school_officer", "--unit", SCHOOL)
    _, shorter = _cli(capsys, "tokens", "create", "--role", "school_officer", "--unit", SCHOOL, "--days", "1")
    with world.transaction() as s:
        rows = {r.id: r for r in s.execute(select(AccessToken)).scalars()}
    assert all(r.expires_at is not None for r in rows.values())
    assert rows[short["token_id"]].expires_at - rows[short["token_id"]].created_at == timedelta(days=7)
    assert rows[shorter["token_id"]].expires_at - rows[shorter["token_id"]].created_at == timedelta(days=1)
    assert _cli(capsys, "tokens", "create", "--role", "school_officer", "--unit", SCHOOL, "--days", "0")[0] == 2


def test_an_expired_token_is_refused_and_the_refusal_audited(world):
    token = world.token("police_duty_officer", "ps-310115")
    assert world.desk.list_cases(token)
    world.clock.advance(timedelta(days=90))
    with pytest.raises(NotAuthenticated):
        world.desk.list_cases(token)
    [(actor, subject, outcome, details)] = _audit(world, "denied.authenticate")
    assert actor == "anonymous" and subject.startswith("token:") and subject != "token:unknown"
    assert outcome == "NotAuthenticated" and details == {"reason": "expired", "action": "list", "case_id": ""}


def test_tokens_list_and_revoke(world, capsys):
    token = world.token("police_duty_officer", "ps-310115")
    code, listed = _cli(capsys, "tokens", "list")
    assert code == 0 and [t["state"] for t in listed] == ["active"]
    assert token not in json.dumps(listed) and "hash" not in json.dumps(listed)
    token_id = listed[0]["token_id"]
    code, revoked = _cli(capsys, "tokens", "revoke", token_id, "--reason", "TEST officer left the desk")
    assert code == 0 and revoked["state"] == "revoked"
    with pytest.raises(NotAuthenticated):
        world.desk.view_case(token, CASE)
    assert [t["state"] for t in _cli(capsys, "tokens", "list")[1]] == ["revoked"]
    code, err = _cli(capsys, "tokens", "revoke", token_id)
    assert code == 2 and "token_id: already revoked" in err
    code, err = _cli(capsys, "tokens", "revoke", "feedfacecafe")
    assert code == 2 and "token_id: an id from `childsafe tokens list`" in err
    [(_, subject, _, details)] = _audit(world, "token.revoked")
    assert subject == f"token:{token_id}" and "TEST officer" not in json.dumps(details)
    assert _audit(world, "denied.authenticate")[0][3]["reason"] == "revoked"


def test_issuance_is_audited_without_the_secret(world, capsys):
    code, made = _cli(capsys, "tokens", "create", "--role", "agency_duty_officer", "--unit", "ca-310115",
                      "--label", "TEST desk")
    [(actor, subject, outcome, details)] = _audit(world, "token.issued")
    assert subject == f"token:{made['token_id']}" and details["role"] == "agency_duty_officer"
    assert made["token"] not in json.dumps([actor, subject, outcome, details])


async def test_http_refusals_401_and_403_are_audited(world):
    async with TestClient(TestServer(build_app(world.desk))) as client:
        assert (await client.get("/cases")).status == 401
        real = world.token("school_officer", SCHOOL)
        wrong_secret = real.rsplit("_", 1)[0] + "_" + "x" * 32
        resp = await client.get(f"/cases/{CASE}", headers={"Authorization": f"Bearer {wrong_secret}"})
        assert resp.status == 401
        resp = await client.get("/cases", headers={"Authorization": "Bearer cst_000000000000_forged\u200f"})
        assert resp.status == 401
        resp = await client.get(f"/cases/{CASE}/reporter", headers={"Authorization": f"Bearer {real}"})
        assert resp.status == 403
    refused = _audit(world, "denied.authenticate")
    assert [(s, d["reason"], d["action"]) for _, s, _, d in refused] == [
        ("token:unknown", "missing", "list"), (f"token:{real.split('_')[1]}", "wrong secret", "view"),
        ("token:unknown", "unknown", "list")]
    assert all(real not in json.dumps(r, ensure_ascii=False) for r in refused)
    assert [(s, o) for _, s, o, _ in _audit(world, "denied.reporter")] == [(CASE, "Forbidden")]
