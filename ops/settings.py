"""All runtime settings in one frozen, validated object, read from CHILDSAFE_* environment variables."""

from __future__ import annotations

import math
import re
from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.alert_request import EMERGENCY_VALIDITY_S
from contracts.incident import IncidentCategory
from contracts.topics import INTAKE_BODY_LIMIT

LOCAL_FIELD_KEY = "local-dev:bG9jYWwtZGV2LWtleS1wdWJsaWMtbm90LXNlY3JldCE="  # public: loopback brokers only
LOCAL_TWILIO_TOKEN = "sandbox-auth-token-not-a-secret"  # public: only with the local sandbox


class Settings(BaseSettings):
    """Secrets are SecretStr, so printing the settings never shows them."""

    model_config = SettingsConfigDict(env_prefix="CHILDSAFE_", frozen=True, extra="ignore")

    run_dir: Path = Field(default=Path(".run"), description="data, logs and pid files of the local stack")
    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="point at your own cluster here")
    topic_namespace: str = Field(default="childsafe", pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    kafka_port: int = 9092
    kafka_controller_port: int = 9093

    web_port: int = 6066
    web_host: str = "127.0.0.1"
    max_body_bytes: int = Field(default=INTAKE_BODY_LIMIT, ge=1024, le=INTAKE_BODY_LIMIT,
                                description="largest intake body; intake topics take at most INTAKE_MAX_MESSAGE_BYTES")
    dedup_retention_days: int = Field(default=14, ge=1)
    triage_batch: int = Field(default=500, ge=1, le=10_000)
    triage_batch_within_s: float = Field(default=0.05, gt=0)
    deadletter_limit_ratio: float = Field(default=0.9, gt=0, le=1,
                                          description="stop when this share of a window of messages dead-letters")
    deadletter_limit_window: int = Field(default=1000, ge=10)

    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in the run folder")
    field_keys: SecretStr = Field(default=SecretStr(LOCAL_FIELD_KEY), description=(
        "AES-256-GCM keys sealing identity and free text on Kafka: kid:base64key, comma-separated, newest last "
        "(it seals; all open). The default is public and only accepted with a loopback broker"))
    intake_tokens_file: Path | None = Field(default=None, description="hashed intake tokens, written by "
                                            "`childsafe intake token`; default: intake-tokens.json in the run folder")
    intake_insecure_local: bool = Field(default=False, description="let the intake run without tokens; refused "
                                        "unless web_host is a loopback address (the demo and some tests set it)")
    streams_metrics_port: int = Field(default=6080, ge=0, description="/metrics of `childsafe worker`; 0 = off")

    # SMS (alerts/). The defaults talk to the local sandbox; real Twilio = real sid/token/sender and an
    # empty twilio_base_url (settings only, no code change).
    twilio_account_sid: str = Field(default="AC" + "0" * 31 + "1", pattern=r"^AC[0-9a-fA-F]{32}$")
    twilio_auth_token: SecretStr = Field(default=SecretStr(LOCAL_TWILIO_TOKEN))
    twilio_from: str = Field(default="+447700900999", description="sender number; or use a messaging service")
    twilio_messaging_service_sid: str = Field(default="", description="MG…; preferred over twilio_from when set")
    twilio_base_url: str = Field(default="http://127.0.0.1:8765", description="empty = https://api.twilio.com")
    twilio_timeout_s: float = Field(default=5.0, gt=0, le=60, description="HTTP timeout of one Twilio call")
    sms_rate_per_s: float = Field(default=100.0, gt=0, description="per-provider token bucket, messages/s")
    sms_max_segments: int = Field(default=8, ge=1, le=10)
    sms_reminder_min_wait_s: float = Field(default=600, ge=0, le=86400,
                                           description="resend to the unacknowledged: seconds since the last message")
    sms_reminder_max_rounds: int = Field(default=3, ge=1, le=20, description="reminder rounds per alert at most")
    sms_quiet_start: time = time(22, 0)
    sms_quiet_end: time = time(7, 0)
    sms_quiet_tz: str = "Asia/Shanghai"
    sms_sandbox_host: str = "127.0.0.1"
    sms_sandbox_port: int = 8765

    # mandatory-reporting cases (consumers/cases): clocks in minutes, see DOMAIN.md
    case_forward_minutes: float = Field(default=15, gt=0, description="forward to public security after intake")
    case_acknowledge_minutes: float = Field(default=60, gt=0, description="receiving agency acknowledges")
    case_assign_high_risk_minutes: float = Field(default=60, gt=0)
    case_assign_other_minutes: float = Field(default=180, gt=0)
    case_bullying_close_days: float = Field(default=10, gt=0)
    case_escalation_step_minutes: float = Field(default=60, gt=0, description="supervisor → education bureau")
    case_batch: int = Field(default=200, ge=1, le=10_000, description="case commands per consumer transaction")
    case_session_timeout_ms: int = Field(default=10_000, ge=6_000, le=300_000,
                                         description="how soon a dead case consumer's partitions move on")
    case_tick_seconds: float = Field(default=30, gt=0, description="how often the escalation runner looks")
    case_api_host: str = "127.0.0.1"
    case_api_port: int = 6070
    case_token: SecretStr = Field(default=SecretStr(""), description="access token the `childsafe cases` CLI uses")
    case_token_days: float = Field(default=90, gt=0, le=3650,
                                   description="lifetime of a desk token from `tokens create` without --days")
    audit_anchor_seconds: float = Field(default=300, gt=0, description="how often the escalation loop anchors "
                                        "the audit chain head on the audit topic (and on every `audit verify`)")

    # SMS workers (consumers/sms): fan-out, dispatcher, webhooks.
    sms_callback_base_url: str = Field(default="http://127.0.0.1:6071",
                                       description="public base URL the provider calls back (signatures cover it)")
    sms_webhook_host: str = "127.0.0.1"
    sms_webhook_port: int = 6071
    sms_fanout_page: int = Field(default=2000, ge=10, le=50_000, description="recipients read per directory page")
    sms_dispatch_batch: int = Field(default=200, ge=1, le=5000)
    sms_dispatch_concurrency: int = Field(default=8, ge=1, le=256, description="parallel provider calls")
    sms_lease_s: float = Field(default=60.0, gt=0, description="a claim older than this is reconciled; > twilio_timeout_s")
    sms_reconcile_delay_s: float = Field(default=2.0, ge=0)
    sms_retry_base_s: float = Field(default=1.0, gt=0)
    sms_retry_cap_s: float = Field(default=300.0, gt=0)
    sms_retry_max_attempts: int = Field(default=10, ge=1)
    sms_consumer_session_timeout_ms: int = Field(default=10_000, ge=6000, description="how fast a dead worker's "
                                                 "partitions move to a live one")
    sms_emergency_validity_s: int = Field(default=EMERGENCY_VALIDITY_S, ge=1, le=36000,
                                          description="ValidityPeriod of emergencies that set none")
    # the web console (console/, docs/console.md)
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=6072, ge=1, le=65535)
    console_secure_cookies: bool = Field(default=False, description="Secure cookies; turn on behind HTTPS")
    console_session_idle_minutes: float = Field(default=30, gt=0, description="signed out after this long idle")
    console_session_hours: float = Field(default=12, gt=0, description="signed out this long after sign-in")
    console_signin_max_failures: int = Field(default=5, ge=1, description="failures per account within the window")
    console_signin_window_minutes: float = Field(default=15, gt=0)
    console_intake_url: str = Field(default="", description="the HTTP intake the console posts reports to; "
                                    "default http://<web_host>:<web_port>")
    console_intake_token: SecretStr = Field(default=SecretStr(""), description="the console's intake bearer token")

    # operations (ops/metrics.py, ops/logs.py; ports in docs/operations.md)
    metrics_enabled: bool = Field(default=True, description="off only to measure what the metrics cost")
    metrics_host: str = "127.0.0.1"
    case_metrics_port: int = Field(default=6081, ge=0, description="/metrics of `cases consume`; 0 = off")
    escalation_metrics_port: int = Field(default=6082, ge=0, description="/metrics of `cases escalate`; 0 = off")
    exporter_port: int = Field(default=6083, ge=0, description="/metrics of `childsafe exporter` (lag, case store)")
    sms_fanout_metrics_port: int = Field(default=6084, ge=0, description="/metrics of `sms fanout`; 0 = off")
    sms_dispatch_metrics_port: int = Field(default=6085, ge=0, description="/metrics of `sms dispatch`; 0 = off")
    exporter_extra_groups: str = Field(default="",
                                       description="more consumer group ids whose lag to export, comma-separated")
    log_format: str = Field(default="json", pattern="^(json|console)$")
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$",
                           description="INFO carries one line per routed report that caused work, and per case")

    # item 18/22 streams (recalls, campus safety, spikes, CAP emergencies): see docs/recalls_cap.md
    drill_period_days: int = Field(default=180, ge=1, description="flag a school with no evacuation drill in this")
    drill_check_interval_s: float = Field(default=3600, gt=0)
    hazard_fix_days_default: int = Field(default=7, ge=1, description="deadline to fix a failed critical item")
    spike_kinds: str = Field(default="food_poisoning", description="comma-separated incident categories counted")
    spike_window_hours: float = Field(default=24, gt=0)
    spike_school_threshold: int = Field(default=3, ge=2, description="reports at one school within the window")
    spike_district_threshold: int = Field(default=5, ge=2, description="reports in one district within the window")
    spike_school_children: int = Field(default=10, ge=2, description="sick children at one school within the window")
    spike_district_children: int = Field(default=20, ge=2, description="sick children in one district within the window")
    missing_child_widening: str = Field(default="0:100,60:200,120:300,180:500",
                                        description="minutes after the alert:radius km, comma-separated")
    missing_child_tick_s: float = Field(default=30, gt=0, description="how often due widenings are issued")
    cap_test_schools: str = Field(default="", description="comma-separated school ids whose contacts alone "
                                  "receive CAP status Test messages (none: Test reaches nobody)")
    cap_delegates: str = Field(default="", description="who may update/cancel another CAP sender's threads: "
                               "'sender=other|another;sender2=…' (the original sender always may)")

    @field_validator("spike_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        unknown = [k for k in _items(value) if k not in IncidentCategory._value2member_map_]
        if unknown:
            raise ValueError(f"CHILDSAFE_SPIKE_KINDS: {', '.join(unknown)} not an incident category "
                             f"(one of {', '.join(c.value for c in IncidentCategory)})")
        return value

    @field_validator("missing_child_widening")
    @classmethod
    def _widening_steps(cls, value: str) -> str:
        _widening(value)
        return value

    @field_validator("exporter_extra_groups")
    @classmethod
    def _group_ids(cls, value: str) -> str:
        bad = [g for g in _items(value) if not _GROUP_ID.fullmatch(g)]
        if bad:
            raise ValueError(f"CHILDSAFE_EXPORTER_EXTRA_GROUPS: {bad[0]!r} is not a Kafka consumer group id")
        return value

    @field_validator("cap_delegates")
    @classmethod
    def _delegates(cls, value: str) -> str:
        _cap_delegates(value)
        return value

    @property
    def cap_test_school_list(self) -> tuple[str, ...]:
        return tuple(_items(self.cap_test_schools))

    @property
    def cap_delegate_map(self) -> dict[str, tuple[str, ...]]:
        """sender → the senders allowed to update or cancel its CAP threads, checked when the settings were loaded."""
        return _cap_delegates(self.cap_delegates)

    @property
    def spike_kind_list(self) -> tuple[str, ...]:
        return tuple(_items(self.spike_kinds))

    @property
    def widening_steps(self) -> tuple[tuple[float, float], ...]:
        """(seconds after the alert, radius km), parsed and checked when the settings were loaded."""
        return _widening(self.missing_child_widening)

    @property
    def extra_groups(self) -> list[str]:
        return _items(self.exporter_extra_groups)

    def intake_tokens_path(self) -> Path:
        return self.intake_tokens_file or self.run_dir / "intake-tokens.json"

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.run_dir / 'childsafe.db').resolve()}"


_GROUP_ID = re.compile(r"[A-Za-z0-9._-]{1,249}")


def _cap_delegates(text: str) -> dict[str, tuple[str, ...]]:
    """``a@x=b@y|c@z;d@w=e@v`` → {"a@x": ("b@y", "c@z"), "d@w": ("e@v",)}; a malformed entry is an error."""
    out: dict[str, tuple[str, ...]] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        sender, sep, others = entry.partition("=")
        names = tuple(o.strip() for o in others.split("|") if o.strip())
        if not sep or not sender.strip() or not names:
            raise ValueError(f"CHILDSAFE_CAP_DELEGATES: {entry!r} is not 'sender=other|another'")
        out[sender.strip()] = out.get(sender.strip(), ()) + names
    return out


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _widening(value: str) -> tuple[tuple[float, float], ...]:
    """`0:100,60:200` → ((0 s, 100 km), (3600 s, 200 km)); a bad step fails naming the variable and the step."""
    steps = []
    for step in _items(value):
        minutes, sep, km = step.partition(":")
        try:
            if not sep:
                raise ValueError
            at, radius = float(minutes) * 60, float(km)
        except ValueError:
            raise ValueError(f"CHILDSAFE_MISSING_CHILD_WIDENING: step {step!r} is not minutes:km") from None
        if not (math.isfinite(at) and math.isfinite(radius)) or at < 0 or radius <= 0:
            raise ValueError(f"CHILDSAFE_MISSING_CHILD_WIDENING: step {step!r} needs minutes >= 0 and km > 0")
        steps.append((at, radius))
    if not steps:
        raise ValueError("CHILDSAFE_MISSING_CHILD_WIDENING: at least one minutes:km step")
    if [s[0] for s in steps] != sorted({s[0] for s in steps}):
        raise ValueError("CHILDSAFE_MISSING_CHILD_WIDENING: steps must be in increasing minutes, each once")
    return tuple(steps)
