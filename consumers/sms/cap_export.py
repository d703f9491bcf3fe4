"""Any alert the SMS side has sent, as CAP 1.2 XML: its stored request mapped by ``request_as_cap`` and checked
against the OASIS schema before it is handed out."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Engine, select

from consumers.sms.errors import UnknownAlert
from consumers.store.sms_ledger import SmsAlert
from contracts.alert_request import AlertRequested
from contracts.cap import to_cap
from contracts.cap.outbound import request_as_cap
from contracts.cap.safe_xml import parse_untrusted
from contracts.cap.schema import validate_cap


def alert_as_cap(engine: Engine, alert_id: str, sender: str = "childsafe.local") -> bytes:
    """CAP 1.2 XML of one alert; ``sent`` is when the fan-out first saw it. Raises UnknownAlert, or
    CapRejected if the output would not validate (a bug: report it)."""
    with engine.connect() as conn:
        row = conn.execute(select(SmsAlert.request_json, SmsAlert.created_at)
                           .where(SmsAlert.alert_id == alert_id)).first()
    if row is None:
        raise UnknownAlert(f"alert_id: no alert {alert_id!r} in the SMS ledger (only alerts the fan-out has "
                           "received can be exported)")
    sent = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    xml = to_cap(request_as_cap(AlertRequested.model_validate_json(row.request_json), sent, sender))
    validate_cap(parse_untrusted(xml))
    return xml
