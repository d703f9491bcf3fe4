"""Open exactly one case per report: case, reporter vault, routing, clocks, duty alert and tracking row together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.cases import history
from consumers.cases.clocks import ClockPolicy, opening_deadlines
from consumers.cases.duty_alerts import duty_alert
from consumers.cases.models import CaseAgency, MandatoryReportCase
from consumers.cases.routing import agency_kinds, district_agencies
from consumers.cases.states import CaseState
from consumers.cases.tracking import OutboxMessage, ProcessedMessage
from consumers.cases.vault import store_reporter
from contracts.cases import OpenCase
from contracts.codec import decode
from contracts.common import AgencyKind
from contracts.dlq import dead_letter_event, reason_class
from contracts.errors import ContractError, FieldError
from contracts.identity import open_case
from contracts.sealed import Keyring, SealError
from contracts.topics import CASE_COMMANDS

log = logging.getLogger(__name__)
ACTOR = "system:case-consumer"


@dataclass(frozen=True)
class Position:
    """One consumed Kafka message: where it was and its exact bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class CaseTopics:
    alerts: str
    deadletter: str


class CaseOpener:
    """Turns one OpenCase command into its effects inside the caller's transaction; returns the outcome."""

    def __init__(self, policy: ClockPolicy, topics: CaseTopics, keyring: Keyring | None = None):
        self.policy, self.topics, self.keyring = policy, topics, keyring

    def handle(self, session: Session, pos: Position, now: datetime) -> str:
        try:
            command = decode(pos.value, CASE_COMMANDS)
        except ContractError as exc:
            return self._dead_letter(session, pos, now, "invalid case command", exc.errors)
        try:
            cmd: OpenCase = open_case(command.data, self.keyring)  # the vault is the one place identity is read
        except SealError as exc:
            return self._dead_letter(session, pos, now, "sealed field cannot be opened",
                                     [FieldError("data", type(exc).__name__ + ": " + str(exc))], command.id)
        pending = session.info.setdefault("opened", {})  # report id → case id, opened in this transaction
        existing = pending.get(cmd.report_id) or session.execute(
            select(MandatoryReportCase.case_id).where(MandatoryReportCase.report_id == cmd.report_id)).scalar_one_or_none()
        if existing is not None:
            self._track(session, pos, command.id, "duplicate", existing, now)
            return "duplicate"
        if cmd.case_id in pending.values() or session.get(MandatoryReportCase, cmd.case_id) is not None:
            return self._dead_letter(session, pos, now, "case_id already belongs to another report",
                                     [FieldError("data.case_id", "unique per report")], command.id)
        pending[cmd.report_id] = cmd.case_id
        self._open(session, cmd, now)
        self._track(session, pos, command.id, "opened", cmd.case_id, now)
        session.info.setdefault("opened_reported_at", []).append(cmd.reported_at)
        log.info("case opened", extra={"case_id": cmd.case_id, "risk": cmd.risk.value,
                                       "correlationid": command.correlationid})
        return "opened"

    def _open(self, session: Session, cmd: OpenCase, now: datetime) -> None:
        case = MandatoryReportCase(
            case_id=cmd.case_id, report_id=cmd.report_id, school_id=cmd.school_id, district_code=cmd.district_code,
            category=cmd.category.value, severity=cmd.severity.value, risk=cmd.risk.value,
            situations=[int(s) for s in cmd.situations], triggers=list(cmd.triggers),
            children=[c.model_dump(mode="json") for c in cmd.children], summary=cmd.summary,
            # clocks start at intake time; a command claiming a future one cannot push its deadlines out
            state=CaseState.REPORTED.value, occurred_at=cmd.occurred_at, reported_at=min(cmd.reported_at, now),
            opened_at=now, updated_at=now)
        session.add(case)
        store_reporter(session, case.case_id, cmd.reporter, now)
        kinds = agency_kinds(cmd)
        cache = session.info.setdefault("agencies", {})
        key = (cmd.district_code, tuple(kinds))
        found = cache[key] if key in cache else cache.setdefault(key, district_agencies(session, kinds,
                                                                                         cmd.district_code))
        for kind, agency in found.items():
            session.add(CaseAgency(case_id=case.case_id, agency_id=agency.id, kind=kind.value, via="routing"))
        lead = found.get(AgencyKind.PUBLIC_SECURITY)
        education = found.get(AgencyKind.EDUCATION)
        session.add_all(opening_deadlines(case, self.policy, lead.id if lead else None,
                                          education.id if education else None))
        history.record(session, case.case_id, at=now, actor=ACTOR, kind="transition", what="case opened from report",
                       to_state=CaseState.REPORTED.value,
                       details={"routed": sorted(a.id for a in found.values()), "triggers": list(cmd.triggers)})
        missing = sorted(set(kinds) - set(found))
        if missing:
            history.record(session, case.case_id, at=now, actor=ACTOR, kind="routing_gap",
                           what="no agency of these kinds in the district", details={"kinds": missing})
        if found:
            session.add(duty_alert(case, sorted(found), self.topics.alerts, now))

    def _track(self, session: Session, pos: Position, message_id: str | None, outcome: str, case_id: str | None,
               now: datetime) -> None:
        session.add(ProcessedMessage(topic=pos.topic, partition=pos.partition, offset=pos.offset,
                                     message_id=message_id, outcome=outcome, case_id=case_id, processed_at=now))

    def _dead_letter(self, session: Session, pos: Position, now: datetime, reason: str, errors: list[FieldError],
                     message_id: str | None = None) -> str:
        event = dead_letter_event(topic=pos.topic, partition=pos.partition, offset=pos.offset, key=pos.key,
                                  value=pos.value, errors=errors, reason=reason, rejected_by="case-consumer", now=now)
        session.add(OutboxMessage(id=event.id, topic=self.topics.deadletter, key=pos.topic.encode(),
                                  value=event.to_bytes(), purpose="deadletter", created_at=now))
        session.info.setdefault("dead_lettered", []).append((pos.topic, reason_class(errors)))
        self._track(session, pos, message_id, "deadlettered", None, now)
        log.warning("case command dead-lettered", extra={"topic": pos.topic, "partition": pos.partition,
                                                         "offset": pos.offset,
                                                         "fields": [e.field for e in errors]})
        return "deadlettered"
