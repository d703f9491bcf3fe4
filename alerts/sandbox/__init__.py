"""A local Twilio-compatible SMS sandbox: Messages create/fetch/list, failure injection, signed callbacks.

The tests and the local demo point the real ``twilio`` SDK at it (``client.api.base_url = sandbox.url``).
"""

from alerts.sandbox.callbacks import twilio_signature
from alerts.sandbox.faults import FaultPlan, FaultRule, FaultSpecError
from alerts.sandbox.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, SmsSandbox

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN", "FaultPlan", "FaultRule", "FaultSpecError", "SmsSandbox",
           "twilio_signature"]
