"""The Twilio gateway: the real twilio SDK over HTTP against the local sandbox, one test per failure class."""

import re
import socket

import pytest

from alerts.gateway import AmbiguousSendError, GatewayConfigError, PermanentSendError, TransientSendError
from alerts.sandbox import FaultPlan, FaultRule
from alerts.segments import count_segments
from alerts.twilio_gateway import TwilioGateway

TO = "+447700900001"  # Ofcom drama range
FROM = "+447700900999"


def gateway_for(sandbox, **kw) -> TwilioGateway:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("auth_token", sandbox.auth_token)
    return TwilioGateway(account_sid=sandbox.account_sid, from_number=FROM, base_url=sandbox.url, **kw)


def send(gateway, to=TO, body="测试消息", **kw):
    return gateway.send(to=to, body=body, status_callback="http://127.0.0.1:9/sms/status?job=J1", **kw)


def test_send_is_accepted_and_held_by_the_provider(sms_sandbox):
    gateway = gateway_for(sms_sandbox)
    body = "中" * 71
    sent = send(gateway, body=body, validity_seconds=600)
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid) and sent.status == "queued"
    assert sent.segments == count_segments(body).segments == 2
    [held] = sms_sandbox.messages(TO)
    assert held["sid"] == sent.sid and held["body"] == body and held["validity_period"] == 600
    assert held["status_callback"] == "http://127.0.0.1:9/sms/status?job=J1" and held["from"] == FROM


def test_messaging_service_sender(sms_sandbox):
    gateway = TwilioGateway(account_sid=sms_sandbox.account_sid, auth_token=sms_sandbox.auth_token,
                            messaging_service_sid="MG" + "1" * 32, base_url=sms_sandbox.url)
    send(gateway)
    assert sms_sandbox.messages(TO)[0]["messaging_service_sid"] == "MG" + "1" * 32


def test_find_messages_newest_first_and_fetch(sms_sandbox):
    gateway = gateway_for(sms_sandbox)
    first, second = send(gateway, body="first"), send(gateway, body="second")
    send(gateway, to="+447700900002", body="other")
    found = gateway.find_messages(to=TO)
    assert [m.sid for m in found] == [second.sid, first.sid]
    assert found[0].body == "second" and found[0].to == TO and found[0].date_created is not None
    assert gateway.fetch(first.sid).sid == first.sid


@pytest.mark.parametrize(("kind", "code"), [("invalid", 21211), ("unsubscribed", 21610), ("not_mobile", 21614)])
def test_permanent_refusals_carry_the_twilio_code_and_store_nothing(sms_sandbox, kind, code):
    sms_sandbox.set_faults(FaultPlan([FaultRule(kind, pattern=r"^\+4477009000")]))
    with pytest.raises(PermanentSendError) as err:
        send(gateway_for(sms_sandbox))
    assert err.value.code == code and err.value.http_status == 400
    assert sms_sandbox.counts() == {}
    send(gateway_for(sms_sandbox), to="+447700900101")  # pattern does not match: accepted


def test_malformed_number_is_refused_by_the_provider_itself(sms_sandbox):
    with pytest.raises(PermanentSendError) as err:
        send(gateway_for(sms_sandbox), to="12345")
    assert err.value.code == 21211


@pytest.mark.parametrize(("kind", "status", "code"), [("rate_limited", 429, 20429), ("server_error", 500, 20500)])
def test_transient_refusals(sms_sandbox, kind, status, code):
    sms_sandbox.set_faults(FaultPlan([FaultRule(kind)]))
    with pytest.raises(TransientSendError) as err:
        send(gateway_for(sms_sandbox))
    assert err.value.http_status == status and err.value.code == code
    assert sms_sandbox.counts() == {}


def test_connection_refused_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = TwilioGateway(account_sid="AC" + "0" * 32, auth_token="x", from_number=FROM,
                            base_url=f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(TransientSendError):
        send(gateway)


def test_response_lost_after_acceptance_is_ambiguous_and_reconcilable(sms_sandbox):
    sms_sandbox.set_faults(FaultPlan([FaultRule("response_lost")]))
    gateway = gateway_for(sms_sandbox)
    with pytest.raises(AmbiguousSendError):
        send(gateway, body="【儿童安全】编号ABCD1234")
    assert sms_sandbox.counts() == {TO: 1}  # the provider holds it although we never heard back
    sms_sandbox.set_faults(FaultPlan())
    [held] = gateway.find_messages(to=TO)
    assert held.body == "【儿童安全】编号ABCD1234"


def test_read_timeout_after_acceptance_is_ambiguous(sms_sandbox):
    sms_sandbox.set_faults(FaultPlan([FaultRule("response_timeout", delay=1.5)]))
    with pytest.raises(AmbiguousSendError):
        send(gateway_for(sms_sandbox, timeout=0.3))
    assert sms_sandbox.counts() == {TO: 1}


def test_slow_answer_within_the_timeout_succeeds(sms_sandbox):
    sms_sandbox.set_faults(FaultPlan([FaultRule("slow", delay=0.2)]))
    assert send(gateway_for(sms_sandbox, timeout=2.0)).sid.startswith("SM")


def test_wrong_credentials_stop_the_gateway(sms_sandbox):
    with pytest.raises(GatewayConfigError) as err:
        send(gateway_for(sms_sandbox, auth_token="wrong"))
    assert err.value.http_status == 401 and err.value.code == 20003


def test_lookups_fail_transiently_under_server_errors(sms_sandbox):
    gateway = gateway_for(sms_sandbox)
    send(gateway)
    sms_sandbox.set_faults(FaultPlan([FaultRule("server_error", on="all")]))
    with pytest.raises(TransientSendError):
        gateway.find_messages(to=TO)


def test_gateway_needs_a_sender():
    with pytest.raises(GatewayConfigError):
        TwilioGateway(account_sid="AC" + "0" * 32, auth_token="x")


def test_unresolvable_host_is_transient():
    gateway = TwilioGateway(account_sid="AC" + "0" * 32, auth_token="x", from_number=FROM,
                            base_url="http://sandbox.invalid", timeout=1.0)
    with pytest.raises(TransientSendError):
        send(gateway)


def test_slow_lookups_are_slow_not_failed(sms_sandbox):
    gateway = gateway_for(sms_sandbox)
    send(gateway)
    sms_sandbox.set_faults(FaultPlan([FaultRule("slow", delay=0.2, on="all")]))
    assert len(gateway.find_messages(to=TO)) == 1
    assert send(gateway).sid.startswith("SM")  # a slow create is stored once, answered late
    assert sms_sandbox.counts() == {TO: 2}


def test_find_messages_reads_every_page(sms_sandbox):
    gateway = gateway_for(sms_sandbox, lookup_page_size=10)
    sids = [send(gateway, body=f"第{i}条").sid for i in range(25)]
    found = gateway.find_messages(to=TO)
    assert [m.sid for m in found] == sids[::-1], "three pages of 10, newest first, none left out"
    assert len(gateway_for(sms_sandbox, lookup_limit=12, lookup_page_size=5).find_messages(to=TO)) == 12
