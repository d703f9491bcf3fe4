"""The sandbox as Twilio: wire format, paging through the real SDK, signed callbacks, fault injection."""

import base64
import json
import urllib.error
import urllib.request

import pytest
from alerts_webhook_receiver import WebhookReceiver
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from alerts.sandbox import FaultPlan, FaultRule, FaultSpecError, SmsSandbox
from alerts.webhook_auth import WebhookVerifier

TO, FROM = "+447700900001", "+447700900999"


@pytest.fixture()
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


def sdk(sandbox) -> Client:
    client = Client(sandbox.account_sid, sandbox.auth_token)
    client.api.base_url = sandbox.url
    return client


def raw(sandbox, method, path, form=None, auth=True):
    data = None if form is None else "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in form.items()).encode()
    req = urllib.request.Request(sandbox.url + path, data=data, method=method)
    if auth:
        token = base64.b64encode(f"{sandbox.account_sid}:{sandbox.auth_token}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def messages_path(sandbox):
    return f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"


def test_create_response_is_shaped_like_twilios(sms_sandbox):
    status, body = raw(sms_sandbox, "POST", messages_path(sms_sandbox), {"To": TO, "From": FROM, "Body": "€uro"})
    assert status == 201
    assert body["status"] == "queued" and body["num_segments"] == "1" and body["direction"] == "outbound-api"
    assert body["uri"] == f"/2010-04-01/Accounts/{sms_sandbox.account_sid}/Messages/{body['sid']}.json"
    assert body["date_created"].endswith("GMT") and body["api_version"] == "2010-04-01"


@pytest.mark.parametrize(("form", "code"), [
    ({"From": FROM, "Body": "x"}, 21604), ({"To": TO, "Body": "x"}, 21603), ({"To": TO, "From": FROM}, 21602),
    ({"To": TO, "From": FROM, "Body": "x" * 1601}, 21617),
    ({"To": TO, "From": FROM, "Body": "x", "ValidityPeriod": "36001"}, 21623),
])
def test_validation_errors_use_twilio_error_bodies(sms_sandbox, form, code):
    status, body = raw(sms_sandbox, "POST", messages_path(sms_sandbox), form)
    assert status == 400 and body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}" and body["message"]


def test_basic_auth_is_required(sms_sandbox):
    status, body = raw(sms_sandbox, "POST", messages_path(sms_sandbox), {"To": TO, "From": FROM, "Body": "x"}, auth=False)
    assert (status, body["code"]) == (401, 20003)
    assert sms_sandbox.counts() == {}


def test_sdk_pages_through_a_long_list(sms_sandbox):
    client = sdk(sms_sandbox)
    sids = [client.messages.create(to=TO, from_=FROM, body=f"m{i}").sid for i in range(120)]
    client.messages.create(to="+447700900002", from_=FROM, body="other")
    listed = [m.sid for m in client.messages.stream(to=TO, page_size=50)]
    assert listed == list(reversed(sids))  # newest first, across three pages
    page = client.messages.page(to=TO, page_size=50)
    assert page.next_page_url and "Page=1" in page.next_page_url


def test_inspection_endpoints_count_per_recipient_and_reset(sms_sandbox):
    client = sdk(sms_sandbox)
    for to, body in ((TO, "x"), (TO, "x"), ("+447700900002", "x"), ("+447700900002", "another alert")):
        client.messages.create(to=to, from_=FROM, body=body)
    status, counts = raw(sms_sandbox, "GET", "/_sandbox/counts", auth=False)
    assert counts["total"] == 4 and counts["by_to"]["+447700900002"] == 2
    assert counts["duplicates"] == {TO: 2}  # the same body twice; two different alerts to one number are not
    status, listed = raw(sms_sandbox, "GET", f"/_sandbox/messages?to={urllib.parse.quote(TO)}", auth=False)
    assert listed["count"] == 2
    raw(sms_sandbox, "POST", "/_sandbox/reset", {}, auth=False)
    assert sms_sandbox.counts() == {}


def test_faults_can_be_set_over_http(sms_sandbox):
    req = urllib.request.Request(sms_sandbox.url + "/_sandbox/faults", method="PUT",
                                 data=json.dumps({"seed": 3, "rules": ["unsubscribed:^\\+447700900001$"]}).encode())
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["rules"][0]["kind"] == "unsubscribed"
    status, body = raw(sms_sandbox, "POST", messages_path(sms_sandbox), {"To": TO, "From": FROM, "Body": "x"})
    assert (status, body["code"]) == (400, 21610)


def test_status_callbacks_are_signed_so_request_validator_accepts_them(sms_sandbox, receiver):
    url = receiver.base + "/sms/status?job=alert-1%3A%2B447700900001"
    sid = sdk(sms_sandbox).messages.create(to=TO, from_=FROM, body="x", status_callback=url).sid
    got = receiver.wait_for(lambda r: len(r) == 3)
    assert [g["params"]["MessageStatus"] for g in got] == ["queued", "sent", "delivered"]
    validator, verifier = RequestValidator(sms_sandbox.auth_token), WebhookVerifier(sms_sandbox.auth_token)
    for g in got:
        assert g["url"] == url and g["params"]["MessageSid"] == sid and g["params"]["To"] == TO
        assert validator.validate(g["url"], g["params"], g["headers"]["X-Twilio-Signature"])
        verifier.verify_request(g["url"], g["params"], g["headers"])
    assert len({g["headers"]["I-Twilio-Idempotency-Token"] for g in got}) == 3
    assert sdk(sms_sandbox).messages(sid).fetch().status == "delivered"


def test_undelivered_callback_carries_the_error_code(sms_sandbox, receiver):
    sms_sandbox.set_faults(FaultPlan([FaultRule("undelivered", code=30005)]))
    sdk(sms_sandbox).messages.create(to=TO, from_=FROM, body="x", status_callback=receiver.base + "/s")
    got = receiver.wait_for(lambda r: len(r) == 3)
    assert got[-1]["params"]["MessageStatus"] == "undelivered" and got[-1]["params"]["ErrorCode"] == "30005"


def test_validity_period_expiry_fails_with_30036(sms_sandbox, receiver):
    sms_sandbox.set_faults(FaultPlan([FaultRule("queued_long", delay=30)]))
    sdk(sms_sandbox).messages.create(to=TO, from_=FROM, body="x", status_callback=receiver.base + "/s",
                                     validity_period=1)
    got = receiver.wait_for(lambda r: len(r) == 2)
    assert got[-1]["params"]["MessageStatus"] == "failed" and got[-1]["params"]["ErrorCode"] == "30036"


def test_failed_callbacks_are_retried_with_the_same_idempotency_token(sms_sandbox):
    receiver = WebhookReceiver(fail_first=1)
    try:
        sdk(sms_sandbox).messages.create(to=TO, from_=FROM, body="x", status_callback=receiver.base + "/s")
        got = receiver.wait_for(lambda r: len(r) == 4)
        assert got[0]["params"] == got[1]["params"]
        assert got[0]["headers"]["I-Twilio-Idempotency-Token"] == got[1]["headers"]["I-Twilio-Idempotency-Token"]
    finally:
        receiver.close()


def test_duplicate_callbacks_repeat_the_token(receiver):
    with SmsSandbox(faults=FaultPlan(), step_seconds=0.01, duplicate_callback_rate=1.0) as sandbox:
        sdk(sandbox).messages.create(to=TO, from_=FROM, body="x", status_callback=receiver.base + "/s")
        got = receiver.wait_for(lambda r: len(r) == 6)
    tokens = [g["headers"]["I-Twilio-Idempotency-Token"] for g in got]
    assert len(set(tokens)) == 3 and all(tokens.count(t) == 2 for t in tokens)


def test_rate_faults_are_reproducible_from_the_seed():
    def outcomes(seed):
        plan = FaultPlan([FaultRule.parse("server_error@0.3"), FaultRule.parse("rate_limited@0.2")], seed=seed)
        return [(r.kind if (r := plan.pick(f"+4477009000{i:02d}", creating=True)) else None) for i in range(100)]
    first = outcomes(7)
    assert first == outcomes(7) and first != outcomes(8)
    assert 20 <= first.count("server_error") <= 40


def test_fault_spec_parsing_and_errors():
    rule = FaultRule.parse(r"slow:^\+86138@0.25~1.5")
    assert (rule.kind, rule.pattern, rule.rate, rule.delay) == ("slow", r"^\+86138", 0.25, 1.5)
    with pytest.raises(FaultSpecError, match="fault kind"):
        FaultRule.parse("explode@0.1")
    with pytest.raises(FaultSpecError, match="rate"):
        FaultRule("server_error", rate=2)
