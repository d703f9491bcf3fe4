"""The composition root: every engine, producer, app and client is built here, from Settings."""

from __future__ import annotations

from ops.identity import field_keyring
from ops.settings import Settings


def streams_config(settings: Settings):
    from streams.app import StreamsConfig

    return StreamsConfig(
        bootstrap=settings.bootstrap_servers,
        namespace=settings.topic_namespace,
        data_dir=str(settings.run_dir / "streams"),
        web_host=settings.web_host,
        web_port=settings.web_port,
        max_body_bytes=settings.max_body_bytes,
        intake_tokens_file=str(settings.intake_tokens_path()),
        intake_insecure_local=settings.intake_insecure_local,  # `childsafe worker` checks intake_may_run_open first
        batch=settings.triage_batch,
        batch_within_s=settings.triage_batch_within_s,
        deadletter_limit=deadletter_limit(settings),
        dedup_retention_s=settings.dedup_retention_days * 24 * 3600.0,
        alerting=alerting_config(settings),
        metrics=settings.metrics_enabled,
        keyring=field_keyring(settings),
    )


def intake_may_run_open(settings: Settings) -> bool:
    """Closed by default: without intake tokens the worker refuses to start, unless it binds to loopback
    *and* CHILDSAFE_INTAKE_INSECURE_LOCAL is set. Returns whether the intake runs open."""
    import ipaddress

    from ops.errors import ChildSafeOpsError
    from streams.intake_tokens import IntakeTokenBook

    if settings.intake_insecure_local:
        try:
            loopback = settings.web_host == "localhost" or ipaddress.ip_address(settings.web_host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ChildSafeOpsError(f"CHILDSAFE_INTAKE_INSECURE_LOCAL is set but CHILDSAFE_WEB_HOST={settings.web_host} is not "
                           "a loopback address: an open intake may only listen on 127.0.0.1/::1")
        return True
    if not IntakeTokenBook(settings.intake_tokens_path()).tokens():
        raise ChildSafeOpsError(f"no intake tokens in {settings.intake_tokens_path()}: issue one with `childsafe intake "
                       "token`, or set CHILDSAFE_INTAKE_INSECURE_LOCAL=1 for a loopback-only local run")
    return False


def deadletter_limit(settings: Settings):
    """The one dead-letter limit of every agent and consumer (contracts/dlq.py)."""
    from contracts.dlq import DeadLetterLimit

    return DeadLetterLimit(settings.deadletter_limit_ratio, settings.deadletter_limit_window)


def alerting_config(settings: Settings):
    from streams.alerting_config import AlertingConfig

    return AlertingConfig(
        drill_period_days=settings.drill_period_days, drill_check_interval_s=settings.drill_check_interval_s,
        hazard_fix_days_default=settings.hazard_fix_days_default,
        spike_kinds=settings.spike_kind_list,
        spike_window_s=settings.spike_window_hours * 3600, spike_school_threshold=settings.spike_school_threshold,
        spike_district_threshold=settings.spike_district_threshold, widening=settings.widening_steps,
        spike_school_children=settings.spike_school_children, spike_district_children=settings.spike_district_children,
        widening_tick_s=settings.missing_child_tick_s, cap_test_schools=settings.cap_test_school_list,
        cap_delegates=settings.cap_delegate_map)


def streams_app(settings: Settings):
    from streams.app import create_app

    return create_app(streams_config(settings))
