"""Every CHILDSAFE_* variable changes what the code builds or does: one row per field of ops/settings.py, so a new
setting without a row fails, and a setting nothing reads fails its row.

Each probe sets the variable in the environment, loads ``Settings()`` as the CLI does, and reads the effect from
what the composition root or the command builds: a config object, a client, or the arguments of the call that
would bind a port or start a Kafka client (recorded there, so no broker or server is needed).
"""

from __future__ import annotations

import argparse
import threading
from datetime import UTC

import pytest
from pydantic import SecretStr

from contracts.clock import FakeClock
from contracts.sealed import new_key
from ops import bootstrap
from ops.identity import field_keyring
from ops.settings import Settings
from tests.databases import migrated_template, sqlite_copy
from tests.fakes import FakeProducer


class Called(Exception):
    """Raised by a recorder to stop the command right where it would bind or connect."""

    def __init__(self, *args, **kwargs):
        super().__init__("recorded")
        self.args_, self.kwargs = args, kwargs


def _raise(*args, **kwargs):
    raise Called(*args, **kwargs)


def called(run) -> Called:
    with pytest.raises(Called) as caught:
        run()
    return caught.value


class Probes:
    """The effect of the current settings, read from what the code builds (``mp`` records calls)."""

    def __init__(self, mp: pytest.MonkeyPatch, tmp_path):
        self.mp, self.tmp_path = mp, tmp_path

    def streams(self, s: Settings, attr: str):
        return getattr(bootstrap.streams_config(s), attr)

    def alerting(self, s: Settings, attr: str):
        return getattr(bootstrap.alerting_config(s), attr)

    def dispatch(self, s: Settings, attr: str):
        return getattr(bootstrap.dispatch_settings(s), attr)

    def clocks(self, s: Settings, attr: str):
        return getattr(bootstrap.clock_policy(s), attr)

    def case_consumer_kafka(self, s: Settings) -> dict:
        self.mp.setattr(bootstrap, "make_consumer", _raise)
        return called(lambda: bootstrap.build_case_consumer(s, bootstrap.build_case_runtime(s), None, threading.Event())).kwargs

    def sms_clients(self) -> None:
        class Producer(FakeProducer):
            def __init__(self, *args, **kwargs):
                super().__init__()

            def to(self, topic):
                return (self, topic)

        self.mp.setattr(bootstrap, "AcknowledgedProducer", Producer)

        class Consumer(tuple):  # (args, kwargs) of the call, and enough of a consumer to be polled and closed
            def poll(self, *args, **kwargs):
                return {}

            def close(self):
                pass

        self.mp.setattr(bootstrap, "make_consumer", lambda *args, **kwargs: Consumer((args, kwargs)))

    def fanout(self, s: Settings):
        self.sms_clients()
        return bootstrap.build_fanout(s, threading.Event())

    def dispatch_worker(self, s: Settings):
        self.sms_clients()
        return bootstrap.build_dispatch(s, threading.Event())

    def command(self, module, function: str, s: Settings, target, attr: str, **args) -> Called:
        self.mp.setattr(target, attr, _raise)
        return called(lambda: getattr(module, function)(argparse.Namespace(**args), s))

    def console(self, s: Settings, path: str):
        self.mp.setenv("CHILDSAFE_RUN_DIR", str(self.tmp_path))  # the console's engine (never connected) lives here
        value = bootstrap.build_console(s.model_copy(update={"run_dir": self.tmp_path}))
        for attr in path.split("."):
            value = getattr(value, attr)
        return value

    def console_served(self, s: Settings) -> tuple:
        from aiohttp import web

        from ops.commands import console_cmd

        s = s.model_copy(update={"run_dir": self.tmp_path})
        served = self.command(console_cmd, "_serve", s, web, "run_app")
        return served.kwargs["host"], served.kwargs["port"]

    def served_metrics(self, s: Settings, module: str, function: str, **args) -> tuple:
        import ops.metrics
        from ops.commands import cases_cmd, sms_cmd

        served = []
        self.mp.setattr(ops.metrics, "serve", lambda role, port, host: served.append((role, port, host)))
        self.mp.setattr(bootstrap, "run_case_consumer", _raise)
        self.mp.setattr(bootstrap, "run_escalation", _raise)
        class Worker:  # the command serves /metrics, builds the worker with its stop event, runs it: stop at the run
            def __init__(self, settings, stop):
                pass

            run, close = _raise, lambda self: None

        self.mp.setattr(bootstrap, "build_fanout", Worker)
        self.mp.setattr(bootstrap, "build_dispatch", Worker)
        called(lambda: getattr({"cases": cases_cmd, "sms": sms_cmd}[module], function)(argparse.Namespace(**args), s))
        return tuple(served)

    def worker_metrics(self, s: Settings) -> tuple:
        """`childsafe worker` serves /metrics on its own port: record the call, stop before Faust runs."""
        import faust.worker

        import ops.metrics
        import ops.topics_admin
        from ops.commands import worker_cmd

        served = []
        self.mp.setattr(ops.metrics, "serve", lambda role, port, host: served.append((role, port, host)))
        self.mp.setattr(bootstrap, "intake_may_run_open", lambda settings: True)
        self.mp.setattr(bootstrap, "build_streams", lambda settings: type("Runtime", (), {"app": None})())
        self.mp.setattr(ops.topics_admin, "apply_topics", lambda *a, **k: None)

        class Worker:
            def __init__(self, *args, **kwargs):
                pass

            execute_from_commandline = _raise

        self.mp.setattr(faust.worker, "Worker", Worker)
        called(lambda: worker_cmd._run(argparse.Namespace(loglevel=None), s.model_copy(update={"run_dir": self.tmp_path})))
        return tuple(served)

    def logging(self, s: Settings) -> tuple:
        import ops.logs
        from ops.commands import sms_cmd

        self.mp.setattr(ops.logs, "configure", _raise)
        c = called(lambda: sms_cmd._stop_on_signals(s))
        return c.args_

    def anchor_interval(self, s: Settings) -> float:
        """Seconds between two audit-chain anchors of the escalation loop, on a fake clock."""
        from datetime import datetime

        from contracts.clock import FakeClock

        url = sqlite_copy(migrated_template(), self.tmp_path / "anchor.db")
        clock, published = FakeClock(datetime(2026, 12, 1, tzinfo=UTC)), []

        class Anchor:
            def publish(self):
                published.append(clock.monotonic())
                return 0

        class Stop(threading.Event):
            def wait(self, timeout=None):
                clock.advance(timeout)
                return len(published) >= 2

        bootstrap.run_escalation(s.model_copy(update={"database_url": url, "case_tick_seconds": 1}), Stop(),
                                 clock=clock, publisher=FakeProducer(), anchor=Anchor())
        return published[1] - published[0]

    def escalation_tick(self, s: Settings) -> float:
        """Seconds the escalation loop waits between two ticks (a fake anchor: no broker to reach)."""
        from datetime import datetime


        url = sqlite_copy(migrated_template(), self.tmp_path / "tick.db")
        waited: list[float] = []

        class Anchor:
            def publish(self):
                return 0

        class Stop(threading.Event):
            def wait(self, timeout=None):
                waited.append(timeout)
                return True

        bootstrap.run_escalation(s.model_copy(update={"database_url": url}), Stop(), publisher=FakeProducer(),
                                 clock=FakeClock(datetime(2026, 12, 1, tzinfo=UTC)), anchor=Anchor())
        return waited[0]

    def exporter(self, s: Settings) -> Called:
        from prometheus_client import CollectorRegistry

        import ops.metrics

        self.mp.setattr(ops.metrics, "REGISTRY", CollectorRegistry())
        self.mp.setattr(ops.metrics, "ConsumerLagCollector", _raise)
        return called(lambda: ops.metrics.serve_exporter(s, threading.Event()))

    def exporter_port(self, s: Settings) -> tuple:
        from prometheus_client import CollectorRegistry

        import ops.metrics

        self.mp.setattr(ops.metrics, "REGISTRY", CollectorRegistry())
        self.mp.setattr(ops.metrics, "ConsumerLagCollector", lambda *args: CollectorRegistry())
        self.mp.setattr(ops.metrics, "serve", _raise)
        return called(lambda: ops.metrics.serve_exporter(s, threading.Event())).args_

    def webhooks_served(self, s: Settings) -> dict:
        from ops.commands import sms_cmd

        self.sms_clients()  # the webhooks record callbacks on sms.status.v1 through the acknowledged producer
        return self.command(sms_cmd, "_webhooks", s, *_run_app()).kwargs

    def token_expiry_days(self, s: Settings) -> float:
        from consumers.cases import tokens
        from ops.commands import tokens_cmd

        url = sqlite_copy(migrated_template(), self.tmp_path / "tokens.db")
        self.mp.setattr(tokens, "issue_token", _raise)
        args = argparse.Namespace(action="create", role="police_duty_officer", unit="ps-310115", label=None, days=None)
        return called(lambda: tokens_cmd._run(args, s.model_copy(update={"database_url": url}))).kwargs["lifetime"].days

    def case_token(self, s: Settings) -> str:
        from consumers.cases.actions import CaseDesk
        from ops.commands import cases_cmd

        url = sqlite_copy(migrated_template(), self.tmp_path / "token.db")
        self.mp.setattr(CaseDesk, "list_cases", _raise)
        args = argparse.Namespace(token=None, action="list", state=None, breached=False)
        return called(lambda: cases_cmd._act(args, s.model_copy(update={"database_url": url}))).args_[1]


def _run_app():
    from aiohttp import web

    return web, "run_app"


SANDBOX_ARGS = dict(host=None, port=None, faults_file=None, fault=[], seed=None, step_seconds=0.01,
                    duplicate_callback_rate=0.0)
EFFECTS = {  # field: (another value, what shows it)
    "run_dir": ("/tmp/childsafe-elsewhere", lambda p, s: p.streams(s, "data_dir")),
    "bootstrap_servers": ("kafka-1:9092,kafka-2:9092",  # a real broker needs a real field key (ops/identity.py)
                          lambda p, s: p.streams(s.model_copy(update={"field_keys": SecretStr(f"k1:{new_key()}")}),
                                                 "bootstrap")),
    "field_keys": (f"prod-7:{new_key()}", lambda p, s: field_keyring(s).current),
    "topic_namespace": ("elsewhere", lambda p, s: p.streams(s, "namespace")),
    "kafka_port": ("19990", lambda p, s: bootstrap.build_local_kafka(s).port),
    "kafka_controller_port": ("19991", lambda p, s: bootstrap.build_local_kafka(s).controller_port),
    "web_port": ("7066", lambda p, s: p.streams(s, "web_port")),
    "web_host": ("0.0.0.0", lambda p, s: p.streams(s, "web_host")),
    "max_body_bytes": ("2048", lambda p, s: p.streams(s, "max_body_bytes")),
    "dedup_retention_days": ("3", lambda p, s: p.streams(s, "dedup_retention_s")),
    "triage_batch": ("7", lambda p, s: p.streams(s, "batch")),
    "triage_batch_within_s": ("0.5", lambda p, s: p.streams(s, "batch_within_s")),
    "deadletter_limit_ratio": ("0.5", lambda p, s: p.streams(s, "deadletter_limit")),
    "deadletter_limit_window": ("50", lambda p, s: p.streams(s, "deadletter_limit")),
    "database_url": ("sqlite:////tmp/childsafe-elsewhere.db",
                     lambda p, s: str(bootstrap.build_case_runtime(s).engine.url)),
    "intake_tokens_file": ("/srv/childsafe/intake-tokens.json", lambda p, s: p.streams(s, "intake_tokens_file")),
    "intake_insecure_local": ("true", lambda p, s: p.streams(s, "intake_insecure_local")),
    "streams_metrics_port": ("7080", lambda p, s: p.worker_metrics(s)),
    "twilio_account_sid": ("AC" + "1" * 32, lambda p, s: bootstrap.build_gateway(s).client.username),
    "twilio_auth_token": ("another-auth-token", lambda p, s: bootstrap.build_gateway(s).client.password),
    "twilio_from": ("+447700900123", lambda p, s: bootstrap.build_gateway(s).from_number),
    "twilio_messaging_service_sid": ("MG" + "1" * 32, lambda p, s: bootstrap.build_gateway(s).messaging_service_sid),
    "twilio_base_url": ("http://127.0.0.1:9999", lambda p, s: bootstrap.build_gateway(s).client.api.base_url),
    "twilio_timeout_s": ("9", lambda p, s: bootstrap.build_gateway(s).client.http_client.timeout),
    "sms_rate_per_s": ("5", lambda p, s: bootstrap.build_rate_limiter(s, FakeClock()).rate),
    "sms_max_segments": ("2", lambda p, s: p.fanout(s).fanout.rules.max_segments),
    "sms_reminder_min_wait_s": ("30", lambda p, s: bootstrap.build_reminder_policy(s).min_wait),
    "sms_reminder_max_rounds": ("5", lambda p, s: bootstrap.build_reminder_policy(s).max_rounds),
    "sms_quiet_start": ("21:00", lambda p, s: p.dispatch(s, "quiet_hours").start),
    "sms_quiet_end": ("06:00", lambda p, s: p.dispatch(s, "quiet_hours").end),
    "sms_quiet_tz": ("Asia/Urumqi", lambda p, s: p.dispatch(s, "quiet_hours").tz),
    "sms_sandbox_host": ("0.0.0.0", lambda p, s: p.command(__import__("ops.commands.sandbox_cmd", fromlist=["x"]),
                         "_run", s, __import__("alerts.sandbox", fromlist=["x"]), "SmsSandbox",
                         **SANDBOX_ARGS).kwargs["host"]),
    "sms_sandbox_port": ("8799", lambda p, s: p.command(__import__("ops.commands.sandbox_cmd", fromlist=["x"]),
                         "_run", s, __import__("alerts.sandbox", fromlist=["x"]), "SmsSandbox",
                         **SANDBOX_ARGS).kwargs["port"]),
    "case_forward_minutes": ("5", lambda p, s: p.clocks(s, "forward")),
    "case_acknowledge_minutes": ("30", lambda p, s: p.clocks(s, "acknowledge")),
    "case_assign_high_risk_minutes": ("30", lambda p, s: p.clocks(s, "assign_high_risk")),
    "case_assign_other_minutes": ("90", lambda p, s: p.clocks(s, "assign_other")),
    "case_bullying_close_days": ("5", lambda p, s: p.clocks(s, "bullying_close")),
    "case_escalation_step_minutes": ("30", lambda p, s: p.clocks(s, "escalation_step")),
    "case_batch": ("17", lambda p, s: p.case_consumer_kafka(s)["max_poll_records"]),
    "case_session_timeout_ms": ("20000", lambda p, s: p.case_consumer_kafka(s)["session_timeout_ms"]),
    "case_tick_seconds": ("7", lambda p, s: p.escalation_tick(s)),
    "case_api_host": ("0.0.0.0", lambda p, s: p.command(__import__("ops.commands.cases_cmd", fromlist=["x"]),
                      "_serve", s, *_run_app(), port=None).kwargs["host"]),
    "case_api_port": ("6999", lambda p, s: p.command(__import__("ops.commands.cases_cmd", fromlist=["x"]),
                      "_serve", s, *_run_app(), port=None).kwargs["port"]),
    "case_token": ("a-desk-token", lambda p, s: p.case_token(s)),
    "case_token_days": ("7", lambda p, s: p.token_expiry_days(s)),
    "cap_test_schools": ("SCH-310115-0001", lambda p, s: p.alerting(s, "cap_test_schools")),
    "cap_delegates": ("cap@a.example=cap@b.example", lambda p, s: p.alerting(s, "cap_delegates")),
    "audit_anchor_seconds": ("42", lambda p, s: p.anchor_interval(s)),
    "sms_callback_base_url": ("https://sms.example.invalid", lambda p, s: p.dispatch(s, "callback_base_url")),
    "sms_webhook_host": ("0.0.0.0", lambda p, s: p.webhooks_served(s)["host"]),
    "sms_webhook_port": ("6999", lambda p, s: p.webhooks_served(s)["port"]),
    "sms_fanout_page": ("500", lambda p, s: p.fanout(s).fanout.page_size),
    "sms_dispatch_batch": ("50", lambda p, s: p.dispatch_worker(s).batch),
    "sms_dispatch_concurrency": ("3", lambda p, s: p.dispatch(s, "concurrency")),
    "sms_lease_s": ("120", lambda p, s: p.dispatch(s, "lease_s")),
    "sms_reconcile_delay_s": ("5", lambda p, s: p.dispatch(s, "reconcile_delay_s")),
    "sms_retry_base_s": ("2", lambda p, s: p.dispatch(s, "backoff")),
    "sms_retry_cap_s": ("60", lambda p, s: p.dispatch(s, "backoff")),
    "sms_retry_max_attempts": ("3", lambda p, s: p.dispatch(s, "backoff")),
    "sms_consumer_session_timeout_ms": ("20000", lambda p, s: p.fanout(s).consumer[1]["session_timeout_ms"]),
    "sms_emergency_validity_s": ("600", lambda p, s: p.dispatch(s, "emergency_validity_s")),
    "metrics_enabled": ("false", lambda p, s: p.streams(s, "metrics")),
    "metrics_host": ("0.0.0.0", lambda p, s: p.served_metrics(s, "cases", "_consume")),
    "case_metrics_port": ("7081", lambda p, s: p.served_metrics(s, "cases", "_consume")),
    "escalation_metrics_port": ("7082", lambda p, s: p.served_metrics(s, "cases", "_escalate", once=False)),
    "exporter_port": ("7083", lambda p, s: p.exporter_port(s)),
    "sms_fanout_metrics_port": ("7084", lambda p, s: p.served_metrics(s, "sms", "_fanout")),
    "sms_dispatch_metrics_port": ("7085", lambda p, s: p.served_metrics(s, "sms", "_dispatch")),
    "exporter_extra_groups": ("other-group", lambda p, s: p.exporter(s).args_[1]),
    "log_format": ("console", lambda p, s: p.logging(s)),
    "log_level": ("warning", lambda p, s: p.logging(s)),
    "drill_period_days": ("90", lambda p, s: p.alerting(s, "drill_period_days")),
    "drill_check_interval_s": ("60", lambda p, s: p.alerting(s, "drill_check_interval_s")),
    "hazard_fix_days_default": ("3", lambda p, s: p.alerting(s, "hazard_fix_days_default")),
    "spike_kinds": ("food_poisoning,poisoning_other", lambda p, s: p.alerting(s, "spike_kinds")),
    "spike_window_hours": ("12", lambda p, s: p.alerting(s, "spike_window_s")),
    "spike_school_threshold": ("4", lambda p, s: p.alerting(s, "spike_school_threshold")),
    "spike_district_threshold": ("8", lambda p, s: p.alerting(s, "spike_district_threshold")),
    "spike_school_children": ("12", lambda p, s: p.alerting(s, "spike_school_children")),
    "spike_district_children": ("30", lambda p, s: p.alerting(s, "spike_district_children")),
    "missing_child_widening": ("0:50,30:80", lambda p, s: p.alerting(s, "widening")),
    "missing_child_tick_s": ("10", lambda p, s: p.alerting(s, "widening_tick_s")),
    "console_host": ("0.0.0.0", lambda p, s: p.console_served(s)),
    "console_port": ("7072", lambda p, s: p.console_served(s)),
    "console_secure_cookies": ("true", lambda p, s: p.console(s, "secure_cookies")),
    "console_session_idle_minutes": ("10", lambda p, s: p.console(s, "signin.policy.idle")),
    "console_session_hours": ("2", lambda p, s: p.console(s, "signin.policy.lifetime")),
    "console_signin_max_failures": ("3", lambda p, s: p.console(s, "signin.policy.max_failures")),
    "console_signin_window_minutes": ("5", lambda p, s: p.console(s, "signin.policy.failure_window")),
    "console_intake_url": ("http://intake.example.invalid:6066", lambda p, s: p.console(s, "intake.base_url")),
    "console_intake_token": ("a-console-intake-token", lambda p, s: p.console(s, "intake.token")),
}


def test_every_setting_has_a_row():
    assert sorted(Settings.model_fields) == sorted(EFFECTS), "add a row (and an effect) for each new setting"


@pytest.mark.parametrize("field", sorted(EFFECTS))
def test_the_variable_changes_what_the_code_does(field, monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("CHILDSAFE_"):
            monkeypatch.delenv(name)
    value, effect = EFFECTS[field]
    probes = Probes(monkeypatch, tmp_path)
    default = effect(probes, Settings())
    monkeypatch.setenv(f"CHILDSAFE_{field.upper()}", value)
    changed = effect(probes, Settings())
    assert changed != default, f"CHILDSAFE_{field.upper()}={value} changed nothing ({default!r})"


@pytest.mark.parametrize("field,value,names", [
    ("spike_kinds", "food_poisoning,food poisonning", "CHILDSAFE_SPIKE_KINDS"),
    ("missing_child_widening", "0:100,sixty:200", "CHILDSAFE_MISSING_CHILD_WIDENING"),
    ("missing_child_widening", "60:100,0:200", "CHILDSAFE_MISSING_CHILD_WIDENING"),
    ("missing_child_widening", "0:-5", "CHILDSAFE_MISSING_CHILD_WIDENING"),
    ("missing_child_widening", " , ", "CHILDSAFE_MISSING_CHILD_WIDENING"),
    ("missing_child_widening", "0:nan", "CHILDSAFE_MISSING_CHILD_WIDENING"),
    ("exporter_extra_groups", "ok-group,bad group\u200b", "CHILDSAFE_EXPORTER_EXTRA_GROUPS"),
    ("exporter_extra_groups", "组", "CHILDSAFE_EXPORTER_EXTRA_GROUPS"),
])
def test_a_bad_list_value_fails_at_load_naming_its_variable(field, value, names, monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv(f"CHILDSAFE_{field.upper()}", value)
    with pytest.raises(ValidationError, match=names):
        Settings()


def test_the_cli_reports_a_bad_setting_without_a_traceback(monkeypatch, capsys):
    from ops.cli import main

    monkeypatch.setenv("CHILDSAFE_MISSING_CHILD_WIDENING", "0:100,x")
    assert main(["topics", "apply"]) == 2
    assert "CHILDSAFE_MISSING_CHILD_WIDENING" in capsys.readouterr().err


def test_one_stop_event_reaches_every_guard_of_a_worker(monkeypatch, tmp_path):
    """The composition root builds each SMS worker's outage guards on the stop event the worker runs under: the signal
    that stops the loop also cuts short a wait in the dispatcher's settling and in its cancellation consumer."""
    probes = Probes(monkeypatch, tmp_path)
    probes.sms_clients()
    settings = Settings(run_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'guards.db'}")
    stop = threading.Event()
    dispatch, fanout = bootstrap.build_dispatch(settings, stop), bootstrap.build_fanout(settings, stop)
    guards = [dispatch.guard, dispatch.dispatcher.guard, dispatch.cancellations.guard, fanout.guard]
    assert all(g.stop is stop for g in guards), [g.worker for g in guards if g.stop is not stop]
    assert {g.worker for g in guards} == {"sms-dispatch", "sms-cancellations", "sms-fanout"}
