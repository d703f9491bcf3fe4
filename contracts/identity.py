"""Which fields of which events are sealed, and the two places that seal and open them.

The HTTP intake seals a report's reporter name, phone and description before it is produced
(:func:`seal_report`); triage copies the sealed values into the case command unread; the case store
opens them (:func:`open_case`) and keeps them in its vault. Nothing in between can read them.
"""

from __future__ import annotations

from contracts.cases import OpenCase
from contracts.envelope import CloudEvent
from contracts.events import IncidentReportedEvent
from contracts.incident import IncidentReported, Reporter
from contracts.sealed import Keyring, Sealed

REPORTER_NAME, REPORTER_PHONE, DESCRIPTION = "reporter.name", "reporter.phone", "description"


def _seal(keyring: Keyring, value, purpose: str):
    return keyring.seal(value, purpose) if isinstance(value, str) else value


def seal_reporter(reporter: Reporter, keyring: Keyring) -> Reporter:
    return reporter.model_copy(update={"name": _seal(keyring, reporter.name, REPORTER_NAME),
                                       "phone": _seal(keyring, reporter.phone, REPORTER_PHONE)})


def seal_report(event: CloudEvent, keyring: Keyring | None) -> CloudEvent:
    """An incident report with its identity and free text sealed; other events (and no keyring) unchanged."""
    if keyring is None or not isinstance(event, IncidentReportedEvent):
        return event
    data: IncidentReported = event.data
    sealed = data.model_copy(update={"reporter": seal_reporter(data.reporter, keyring),
                                     "description": _seal(keyring, data.description, DESCRIPTION)})
    return event.model_copy(update={"data": sealed})


def open_case(cmd: OpenCase, keyring: Keyring | None) -> OpenCase:
    """The case command with its summary and reporter opened (raises SealError on an unknown key or forgery)."""
    r = cmd.reporter
    if not any(isinstance(v, Sealed) for v in (cmd.summary, r.name, r.phone)):
        return cmd
    if keyring is None:
        from contracts.sealed import SealError

        raise SealError("the case command is sealed but no field key is configured (CHILDSAFE_FIELD_KEYS)")
    reporter = r.model_copy(update={"name": None if r.name is None else keyring.open(r.name, REPORTER_NAME),
                                    "phone": None if r.phone is None else keyring.open(r.phone, REPORTER_PHONE)})
    return cmd.model_copy(update={"summary": keyring.open(cmd.summary, DESCRIPTION), "reporter": reporter})
