"""Webhook signatures: forged and unsigned callbacks are rejected, genuine ones accepted."""

import pytest
from twilio.request_validator import RequestValidator

from alerts.errors import ForgedWebhook, UnsignedWebhook, WebhookSignatureError
from alerts.sandbox import twilio_signature
from alerts.webhook_auth import WebhookVerifier

TOKEN = "test-auth-token-0001"
URL = "https://childsafe.example.test/sms/status?job=alert-1%3A%2B447700900001"
PARAMS = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": "+447700900001",
          "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01"}


def test_sandbox_signature_is_twilios():
    assert twilio_signature(TOKEN, URL, PARAMS) == RequestValidator(TOKEN).compute_signature(URL, PARAMS)


def test_correct_signature_is_accepted():
    WebhookVerifier(TOKEN).verify(URL, PARAMS, twilio_signature(TOKEN, URL, PARAMS))
    WebhookVerifier(TOKEN).verify_request(URL, PARAMS, {"X-Twilio-Signature": twilio_signature(TOKEN, URL, PARAMS)})


@pytest.mark.parametrize("signature", [None, ""])
def test_unsigned_is_rejected(signature):
    with pytest.raises(UnsignedWebhook):
        WebhookVerifier(TOKEN).verify(URL, PARAMS, signature)
    with pytest.raises(UnsignedWebhook):
        WebhookVerifier(TOKEN).verify_request(URL, PARAMS, {})


@pytest.mark.parametrize("forge", [
    lambda: (URL, PARAMS, twilio_signature("another-token", URL, PARAMS)),                   # wrong key
    lambda: (URL, {**PARAMS, "MessageStatus": "failed"}, twilio_signature(TOKEN, URL, PARAMS)),  # tampered field
    lambda: (URL, {**PARAMS, "ErrorCode": "30003"}, twilio_signature(TOKEN, URL, PARAMS)),        # added field
    lambda: (URL.replace("alert-1", "alert-2"), PARAMS, twilio_signature(TOKEN, URL, PARAMS)),   # other URL
    lambda: (URL, PARAMS, "bm90IGEgc2lnbmF0dXJl"),                                              # made up
])
def test_forged_is_rejected(forge):
    url, params, signature = forge()
    with pytest.raises(ForgedWebhook) as err:
        WebhookVerifier(TOKEN).verify(url, params, signature)
    assert isinstance(err.value, WebhookSignatureError) and "X-Twilio-Signature" in str(err.value)
