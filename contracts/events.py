"""Every event type on every topic: one CloudEvent class per (payload, version)."""

from __future__ import annotations

from typing import ClassVar, Literal

from contracts.alert_cancel import AlertCancelled
from contracts.alert_request import AlertRequested
from contracts.audit import AuditRecorded
from contracts.cases import OpenCase
from contracts.deadletter import DeadLettered
from contracts.emergency import EmergencyAlertIssued
from contracts.envelope import CloudEvent
from contracts.incident import IncidentReported
from contracts.recall import RecallPublished
from contracts.registration import ProductHoldings
from contracts.safety import SafetyReportFiled
from contracts.school_location import SchoolLocated
from contracts.sms import SmsJob, SmsStatusReported


class IncidentReportedEvent(CloudEvent[IncidentReported]):
    TYPE: ClassVar[str] = "cn.childsafe.incident.reported.v1"
    type: Literal["cn.childsafe.incident.reported.v1"]


class RecallPublishedEvent(CloudEvent[RecallPublished]):
    TYPE: ClassVar[str] = "cn.childsafe.recall.published.v1"
    type: Literal["cn.childsafe.recall.published.v1"]


class SafetyReportFiledEvent(CloudEvent[SafetyReportFiled]):
    TYPE: ClassVar[str] = "cn.childsafe.safety.report.filed.v1"
    type: Literal["cn.childsafe.safety.report.filed.v1"]


class EmergencyAlertIssuedEvent(CloudEvent[EmergencyAlertIssued]):
    TYPE: ClassVar[str] = "cn.childsafe.emergency.alert.issued.v1"
    type: Literal["cn.childsafe.emergency.alert.issued.v1"]


class OpenCaseCommand(CloudEvent[OpenCase]):
    TYPE: ClassVar[str] = "cn.childsafe.case.open.v1"
    type: Literal["cn.childsafe.case.open.v1"]


class AlertRequestedEvent(CloudEvent[AlertRequested]):
    TYPE: ClassVar[str] = "cn.childsafe.alert.requested.v1"
    type: Literal["cn.childsafe.alert.requested.v1"]


class SmsJobEvent(CloudEvent[SmsJob]):
    TYPE: ClassVar[str] = "cn.childsafe.sms.job.v1"
    type: Literal["cn.childsafe.sms.job.v1"]


class SmsStatusReportedEvent(CloudEvent[SmsStatusReported]):
    TYPE: ClassVar[str] = "cn.childsafe.sms.status.v1"
    type: Literal["cn.childsafe.sms.status.v1"]


class AuditRecordedEvent(CloudEvent[AuditRecorded]):
    TYPE: ClassVar[str] = "cn.childsafe.audit.recorded.v1"
    type: Literal["cn.childsafe.audit.recorded.v1"]


class DeadLetteredEvent(CloudEvent[DeadLettered]):
    TYPE: ClassVar[str] = "cn.childsafe.deadletter.v1"
    type: Literal["cn.childsafe.deadletter.v1"]


class ProductHoldingsEvent(CloudEvent[ProductHoldings]):
    TYPE: ClassVar[str] = "cn.childsafe.product.holdings.v1"
    type: Literal["cn.childsafe.product.holdings.v1"]


class SchoolLocatedEvent(CloudEvent[SchoolLocated]):
    TYPE: ClassVar[str] = "cn.childsafe.school.located.v1"
    type: Literal["cn.childsafe.school.located.v1"]


class AlertCancelledEvent(CloudEvent[AlertCancelled]):
    TYPE: ClassVar[str] = "cn.childsafe.alert.cancelled.v1"
    type: Literal["cn.childsafe.alert.cancelled.v1"]


ALL_EVENTS: tuple[type[CloudEvent], ...] = (
    IncidentReportedEvent, RecallPublishedEvent, SafetyReportFiledEvent, EmergencyAlertIssuedEvent,
    OpenCaseCommand, AlertRequestedEvent, SmsJobEvent, SmsStatusReportedEvent, AuditRecordedEvent,
    DeadLetteredEvent, ProductHoldingsEvent, SchoolLocatedEvent, AlertCancelledEvent,
)
