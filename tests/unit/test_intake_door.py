"""The HTTP intake on its real (Faust) web server: whole bodies, tokens with routes and senders, idempotency
per client, server time, only our endpoints, and 4xx (never 5xx) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.codec import decode
from contracts.errors import ChildSafeError
from streams.intake_tokens import IntakeTokenBook
from tests.factories import envelope, incident
from tests.intake_door import CAP_ALERT, RECEIVED, RunningIntake, raw_exchange
from tests.recall_fixtures import recall

SCHOOL = "SCH-310115-0001"


# One CA bundle for the module's clients: httpx loads it for every client otherwise (~40 ms each, ~200 clients).
TLS = httpx.create_ssl_context()


def _fields(resp) -> list[str]:
    return [e["field"] for e in resp.json()["errors"]]


@pytest.fixture()
async def door(tmp_path):
    async with RunningIntake(tmp_path) as running:
        yield running


@pytest.fixture()
async def open_door(tmp_path):
    async with RunningIntake(tmp_path, insecure_local=True) as running:
        yield running


async def _post(door, path, body, token=None, **headers):
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    hdrs = {"Content-Type": "application/json", **headers}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(verify=TLS) as client:
        return await client.post(door.url + path, content=content, headers=hdrs, timeout=10)


# 1. bodies read whole --------------------------------------------------------------------------------------

async def test_a_body_in_several_segments_with_pauses_is_read_whole(open_door):
    body = json.dumps(incident(), ensure_ascii=False).encode()
    head = (f"POST /v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    status, answer = await raw_exchange(open_door.port, head, [body[:7], body[7:300], body[300:]])
    assert status == 202, answer
    [out] = open_door.writer.written
    assert decode(out.value, out.topic).data.description == incident()["description"]


async def test_a_chunked_body_in_several_segments_is_read_whole(open_door):
    body = json.dumps(incident(), ensure_ascii=False).encode()
    parts = [body[:50], body[50:51], body[51:]]
    chunks = [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts] + [b"0\r\n\r\n"]
    head = (b"POST /v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    status, answer = await raw_exchange(open_door.port, head, chunks)
    assert status == 202, answer
    assert len(open_door.writer.written) == 1


async def test_413_only_above_the_limit_chunked_or_not(open_door):
    limit = 16384
    at_limit = json.dumps(incident(description="x" * 10)).encode()
    at_limit = at_limit[:-1] + b" " * (limit - len(at_limit)) + b"}"
    assert len(at_limit) == limit
    assert (await _post(open_door, "/v1/incidents", at_limit)).status_code == 202
    over = at_limit[:-1] + b" }"
    resp = await _post(open_door, "/v1/incidents", over)
    assert resp.status_code == 413 and _fields(resp) == ["(body)"]
    head = (b"POST /v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    status, _ = await raw_exchange(open_door.port, head, [f"{len(over):x}\r\n".encode() + over + b"\r\n0\r\n\r\n"], 0)
    assert status == 413


# 2. closed by default: tokens carry routes and a sender -----------------------------------------------------

async def test_without_a_valid_token_nothing_gets_in(door):
    door.issue(["incidents"], "school", SCHOOL)
    for token in (None, "", "cit_000000000000_" + "a" * 32, "not-a-token", "Bearer"):
        resp = await _post(door, "/v1/incidents", incident(), token=token)
        assert resp.status_code == 401 and _fields(resp) == ["Authorization"], token
    assert door.writer.written == []


async def test_a_token_is_stored_only_as_a_hash_and_works_without_restart(door):
    token = door.issue(["incidents"], "school", SCHOOL)  # issued after the server started
    assert token not in door.tokens.path.read_text()
    assert (await _post(door, "/v1/incidents", incident(), token=token)).status_code == 202
    [out] = door.writer.written
    assert decode(out.value, out.topic).source == f"/childsafe/intake/school/{SCHOOL}", "the sender is on the event"


async def test_an_expired_token_is_refused(door):
    token = door.issue(["incidents"], "school", SCHOOL, expires_at=RECEIVED + timedelta(minutes=1))
    assert (await _post(door, "/v1/incidents", incident(), token=token)).status_code == 202
    door.clock.advance(timedelta(minutes=2))
    assert (await _post(door, "/v1/incidents", incident(), token=token)).status_code == 401


async def test_a_token_may_post_only_its_routes(door):
    token = door.issue(["incidents"], "school", SCHOOL)
    resp = await _post(door, "/v1/safety-reports", {"school_id": SCHOOL}, token=token)
    assert resp.status_code == 403 and _fields(resp) == ["Authorization"]


async def test_a_school_token_may_send_only_as_its_school(door):
    token = door.issue(["incidents"], "school", SCHOOL)
    resp = await _post(door, "/v1/incidents", incident(school_id="SCH-310115-0002"), token=token)
    assert resp.status_code == 403 and _fields(resp) == ["data.school_id"]
    event = envelope(incident(), id="r-forged")  # a full CloudEvent naming another source
    resp = await _post(door, "/v1/incidents", event, token=token)
    assert resp.status_code == 403 and _fields(resp) == ["source"]
    assert door.writer.written == []


async def test_a_console_token_sends_reports_for_any_school_and_recalls_and_nothing_else(door):
    token = door.issue(["incidents", "safety-reports"], "console", "console-1")
    for school in (SCHOOL, "SCH-310115-0002"):  # the console names the school of the officer it signed in
        assert (await _post(door, "/v1/incidents", incident(school_id=school), token=token)).status_code == 202
    forged = envelope(incident(), id="r-forged")  # still only under the console's own source
    assert _fields(await _post(door, "/v1/incidents", forged, token=token)) == ["source"]
    assert len(door.writer.written) == 2
    # the regulators' recall desk (console/recalls.py) publishes through the same token
    desk = door.issue(["incidents", "safety-reports", "recalls"], "console", "console-1")
    notice = recall(recall_number="SAMR-CONSOLE-1").model_dump(mode="json", exclude_none=True)
    assert (await _post(door, "/v1/recalls", notice, token=desk)).status_code == 202
    with pytest.raises(ChildSafeError):
        door.issue(["registrations"], "console", "console-1")  # no such route: a console posts what people report


async def test_a_console_token_sends_cap_alerts_as_the_signed_in_managers_unit(door):
    """The console names the emergency manager's unit as the CAP sender (console/emergency.py); the door still
    checks the thread's sender rules and that every SMS composes."""
    token = door.issue(["emergency-alerts"], "console", "console-1")
    for sender in ("em-3101", "em-3102"):
        resp = await _post(door, "/v1/emergency-alerts", {**CAP_ALERT, "sender": sender}, token=token)
        assert resp.status_code == 202, resp.text


async def test_a_cap_token_may_send_only_as_its_cap_sender(door):
    token = door.issue(["emergency-alerts"], "cap", "emergency@example.invalid")
    assert (await _post(door, "/v1/emergency-alerts", CAP_ALERT, token=token)).status_code == 202
    resp = await _post(door, "/v1/emergency-alerts", {**CAP_ALERT, "sender": "someone-else@example.invalid"},
                       token=token)
    assert resp.status_code == 403 and _fields(resp) == ["data.sender"]


def test_issuing_a_token_refuses_routes_its_sender_kind_cannot_use(tmp_path):
    book = IntakeTokenBook(tmp_path / "t.json")
    with pytest.raises(ChildSafeError, match="routes"):
        book.issue(["recalls"], "school", SCHOOL, RECEIVED)
    with pytest.raises(ChildSafeError, match="sender_id"):
        book.issue(["incidents"], "school", "SCH 1\n", RECEIVED)


def test_the_worker_refuses_to_start_open_unless_on_loopback_and_asked(tmp_path):
    from ops.bootstrap import intake_may_run_open
    from ops.settings import Settings

    with pytest.raises(ChildSafeError, match="no intake tokens"):
        intake_may_run_open(Settings(run_dir=tmp_path))
    with pytest.raises(ChildSafeError, match="not a loopback"):
        intake_may_run_open(Settings(run_dir=tmp_path, intake_insecure_local=True, web_host="0.0.0.0"))
    assert intake_may_run_open(Settings(run_dir=tmp_path, intake_insecure_local=True, web_host="127.0.0.1"))
    IntakeTokenBook(tmp_path / "intake-tokens.json").issue(["incidents"], "school", SCHOOL, RECEIVED)
    assert intake_may_run_open(Settings(run_dir=tmp_path, web_host="0.0.0.0")) is False


@pytest.mark.realtime
def test_childsafe_worker_exits_with_the_reason_when_no_token_exists(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CHILDSAFE_RUN_DIR": str(tmp_path), "CHILDSAFE_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "ops", "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no intake tokens" in done.stderr + done.stdout


# 4. idempotency per client with the body's hash --------------------------------------------------------------

async def test_same_key_same_body_answers_the_original_202(door):
    token = door.issue(["incidents"], "school", SCHOOL)
    first = await _post(door, "/v1/incidents", incident(), token=token, **{"Idempotency-Key": "k-1"})
    again = await _post(door, "/v1/incidents", incident(), token=token, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(door.writer.written) == 1


async def test_same_key_different_body_is_409_and_never_swallowed(door):
    token = door.issue(["incidents"], "school", SCHOOL)
    fall = await _post(door, "/v1/incidents", incident(), token=token, **{"Idempotency-Key": "k-2"})
    assault = await _post(door, "/v1/incidents", incident(category="sexual_assault"), token=token,
                          **{"Idempotency-Key": "k-2"})
    assert fall.status_code == 202
    assert assault.status_code == 409 and _fields(assault) == ["Idempotency-Key"]
    assert "different body" in assault.json()["error"]


async def test_keys_are_per_client(door):
    one = door.issue(["incidents"], "school", SCHOOL)
    two = door.issue(["incidents"], "school", SCHOOL)
    a = await _post(door, "/v1/incidents", incident(), token=one, **{"Idempotency-Key": "shared"})
    b = await _post(door, "/v1/incidents", incident(severity="serious"), token=two, **{"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"], "two clients' keys never collide into one event id"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=120).map(str.strip).filter(
    lambda k: k and (not k.isascii() or " " in k or "." in k)))
async def test_non_ascii_or_odd_keys_are_400_naming_the_header(open_door, key):
    # full-width, emoji, zero-width, RTL marks… as UTF-8 bytes (control characters the HTTP parser refuses itself)
    raw_key = key.encode("utf-8")
    async with httpx.AsyncClient(verify=TLS) as client:
        resp = await client.post(open_door.url + "/v1/incidents", content=json.dumps(incident()).encode(),
                                 headers=[(b"Content-Type", b"application/json"), (b"Idempotency-Key", raw_key)])
    assert resp.status_code == 400, resp.text
    assert _fields(resp) == ["Idempotency-Key"]


# 6. time from the server ----------------------------------------------------------------------------------

async def test_the_record_carries_the_server_receive_time_not_the_clients(open_door):
    event = envelope(incident(), id="r-2099")
    event["time"] = "2099-01-01T00:00:00+00:00"
    assert (await _post(open_door, "/v1/incidents", event)).status_code == 202
    [out] = open_door.writer.written
    assert out.timestamp_ms == int(RECEIVED.timestamp() * 1000)
    assert decode(out.value, out.topic).time.year == 2099, "the client's time is recorded as sent"


# 7. only our endpoints ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/table/recall-holdings/guardian-1/", "/table/emergency-threads/a-1/", "/table/",
                                  "/router/", "/graph/", "/stats/", "/", "/metrics", "/performance/"])
async def test_faust_views_are_not_served(door, path):
    async with httpx.AsyncClient(verify=TLS) as client:
        assert (await client.get(door.url + path)).status_code == 404


# 11. bad input is 4xx naming the field, never 5xx -----------------------------------------------------------

BAD = [
    (b"[" * 5000 + b"]" * 5000, {}, 400, "(body)"),
    (b'{"school_id": ' + b"9" * 5000 + b"}", {}, 400, "(body)"),
    (b'{"quantity": 1e999}', {}, 400, "(body)"),
    (b'{"a": NaN}', {}, 400, "(body)"),
    (b'{"school_id": "\xff\xfe"}', {}, 400, "(body)"),
    (json.dumps(incident()).encode("utf-16"), {}, 400, "(body)"),
    (json.dumps(incident()).encode(), {"Content-Type": "application/json; charset=latin-1"}, 415, "Content-Type"),
    (json.dumps(incident()).encode(), {"Content-Type": "text/plain"}, 415, "Content-Type"),
    (b"<alert/>", {"Content-Type": "application/cap+xml"}, 415, "Content-Type"),
    (b"", {}, 400, "(body)"),
    (b"[]", {}, 400, "(body)"),
]


@pytest.mark.parametrize("body,headers,status,field", BAD)
async def test_hostile_input_is_a_clear_4xx(open_door, body, headers, status, field):
    resp = await _post(open_door, "/v1/incidents", body, **headers)
    assert resp.status_code == status, resp.text
    assert field in _fields(resp)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=600), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30).map(lambda v: json.dumps(v).encode())))
async def test_any_body_is_answered_below_500_naming_a_field(open_door, body):
    resp = await _post(open_door, "/v1/incidents", body)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert all(f for f in _fields(resp))


async def test_health_follows_the_broker(open_door):
    async with httpx.AsyncClient(verify=TLS) as client:
        assert (await client.get(open_door.url + "/health")).status_code == 200
        open_door.writer.up = False
        assert (await client.get(open_door.url + "/health")).status_code == 503
        resp = await _post(open_door, "/v1/incidents", incident())
        assert resp.status_code == 503 and _fields(resp) == ["(broker)"]
