"""Issue 10 item 5, topics and dead letters: identity and description sealed with AES-GCM and key ids (rotation),
opened only by the case store; dead-letter reasons without values and originals sealed; the public development
secrets refused outside a local stack (item 11: the webhook verifier's default token)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.cases import OpenCase
from contracts.codec import decode
from contracts.deadletter import DeadLettered, seal_originals_with
from contracts.errors import ContractError, FieldError
from contracts.events import DeadLetteredEvent, IncidentReportedEvent, OpenCaseCommand
from contracts.identity import open_case, seal_report
from contracts.sealed import Keyring, Sealed, SealError, new_key
from ops.errors import ChildSafeOpsError
from ops.identity import field_keyring, webhook_auth_token
from ops.settings import Settings
from streams.deadletter import dead_letter
from streams.triage import route
from tests.factories import incident_bytes

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
NAME, PHONE, CHILD = "王小明", "+8613912345678", "李小红"
DESCRIPTION = f"举报人{NAME} 电话 139 1234 5678，孩子{CHILD}身上多处淤伤，疑似家中受虐"


def ring(*kids: str) -> Keyring:
    return Keyring.parse(",".join(f"{k}:{new_key()}" for k in kids))


def abuse_report() -> IncidentReportedEvent:
    raw = incident_bytes(id="r-sealed-1", category="abuse_harm", severity="serious", description=DESCRIPTION,
                         reporter={"role": "teacher", "unit_id": "SCH-310115-0001", "name": NAME, "phone": PHONE})
    return decode(raw, IncidentReportedEvent)


def test_a_sealed_report_carries_no_identity_and_the_case_store_opens_it():
    keys = ring("2026-11")
    sealed = seal_report(abuse_report(), keys)
    wire = sealed.to_bytes().decode()
    for secret in (NAME, CHILD, "13912345678", "139 1234 5678", "淤伤"):
        assert secret not in wire
    assert json.loads(wire)["data"]["description"]["alg"] == "A256GCM"  # clearly ciphertext: an object
    [command] = [o for o in route(decode(wire.encode(), IncidentReportedEvent), NOW) if b"open_case" in o.value]
    assert NAME.encode() not in command.value and "淤伤".encode() not in command.value  # triage never reads it
    opened = open_case(decode(command.value, OpenCaseCommand).data, keys)
    assert (opened.summary, opened.reporter.name, opened.reporter.phone) == (DESCRIPTION, NAME, PHONE)


def test_keys_rotate_old_ones_still_open_and_the_newest_seals():
    k1 = new_key()
    sealed_before = Keyring.parse(f"k1:{k1}").seal(NAME, "reporter.name")
    rotated = Keyring.parse(f"k1:{k1},k2:{new_key()}")
    assert rotated.open(sealed_before, "reporter.name") == NAME
    assert rotated.seal("x", "reporter.name").kid == "k2"
    with pytest.raises(SealError, match="k2"):
        Keyring.parse(f"k1:{k1}").open(rotated.seal("x", "p"), "p")


@settings(max_examples=50, deadline=None)
@given(text=st.text(min_size=1, max_size=300), flip=st.integers(0, 10_000))
def test_property_tampering_or_moving_a_sealed_value_fails(text, flip):
    keys = ring("a")
    sealed = keys.seal(text, "description")
    assert keys.open(sealed, "description") == text
    with pytest.raises(SealError):
        keys.open(sealed, "reporter.name")  # a description cannot be passed off as a name
    raw = bytearray(base64.urlsafe_b64decode(sealed.ct))
    raw[flip % len(raw)] ^= 0x01
    with pytest.raises(SealError):
        keys.open(Sealed(kid="a", ct=base64.urlsafe_b64encode(bytes(raw)).decode()), "description")


def test_a_sealed_command_without_the_key_is_dead_lettered_by_the_case_store_not_opened_in_clear():
    cmd = OpenCase.model_validate(json.loads(route(seal_report(abuse_report(), ring("k")), NOW)[0].value)["data"])
    with pytest.raises(SealError):
        open_case(cmd, None)
    with pytest.raises(SealError):
        open_case(cmd, ring("other"))


def test_dead_letter_reasons_name_the_field_and_rule_never_the_value_and_the_original_is_sealed():
    keys = ring("dl")
    seal_originals_with(keys)
    bad = incident_bytes(id="r-bad", reporter={"role": "teacher", "unit_id": "SCH-310115-0001", "name": CHILD,
                                               "phone": "139-1234-5678", "bogus": CHILD})
    with pytest.raises(ContractError) as info:
        decode(bad, IncidentReportedEvent)
    out = dead_letter(topic="t.incidents.reported.v1", partition=0, offset=7, key=b"SCH", value=bad,
                      errors=info.value.errors, rejected_by="streams.triage", now=NOW)
    assert CHILD not in out.value.decode() and "1234" not in out.value.decode()
    record = decode(out.value, DeadLetteredEvent).data
    assert {e.field for e in record.errors} >= {"data.reporter.phone", "data.reporter.bogus"}
    assert all(e.got is None for e in record.errors) and "(got" not in record.reason
    assert record.value_b64 == "" and record.original(keys) == bad  # replay still gets the exact bytes
    with pytest.raises(ValueError, match="sealed"):
        record.original(None)


def test_a_reason_passed_with_the_exception_text_loses_the_values():
    errs = [FieldError("data.description", "String should have at most 4000 characters", "'李小红…'")]
    record = DeadLettered.of(topic="t", partition=0, offset=0, key=None, value=b"{}", errors=errs,
                             reason=f"not a valid SMS job: {ContractError(errs)}", rejected_by="x", rejected_at=NOW)
    assert "李小红" not in record.reason and "data.description" in record.reason


@pytest.mark.parametrize("bootstrap,ok", [("127.0.0.1:9092", True), ("localhost:9092,[::1]:9093", True),
                                          ("kafka-1.prod.internal:9092", False), ("127.0.0.1:9092,10.0.0.5:9092", False)])
def test_the_public_field_key_is_refused_unless_the_broker_is_local(bootstrap, ok):
    settings = Settings(bootstrap_servers=bootstrap)
    if ok:
        assert field_keyring(settings).current == "local-dev"
    else:
        with pytest.raises(ChildSafeOpsError, match="public development key"):
            field_keyring(settings)
    own = Settings(bootstrap_servers=bootstrap, field_keys=f"prod-1:{new_key()}")
    assert field_keyring(own).current == "prod-1"


@pytest.mark.parametrize("base_url,ok", [("http://127.0.0.1:8765", True), ("http://localhost:9999", True),
                                         ("", False), ("https://api.twilio.com", False),
                                         ("https://sms-gateway.example.cn", False)])
def test_the_webhook_verifier_refuses_the_default_token_unless_the_sandbox_is_in_use(base_url, ok):
    settings = Settings(twilio_base_url=base_url)
    if ok:
        assert webhook_auth_token(settings) == "sandbox-auth-token-not-a-secret"
    else:
        with pytest.raises(ChildSafeOpsError, match="public default"):
            webhook_auth_token(settings)
        from ops.bootstrap import build_webhooks
        with pytest.raises(ChildSafeOpsError):
            build_webhooks(settings)
    assert webhook_auth_token(Settings(twilio_base_url=base_url, twilio_auth_token="a-real-provider-token")) \
        == "a-real-provider-token"
