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
        intake_tokens=tuple(t.strip() for t in settings.intake_tokens.get_secret_value().split(",") if t.strip()),
        batch=settings.triage_batch,
        batch_within_s=settings.triage_batch_within_s,
        deadletter_limit=deadletter_limit(settings),
        dedup_retention_s=settings.dedup_retention_days * 24 * 3600.0,
        alerting=alerting_config(settings),
        metrics=settings.metrics_enabled,
        keyring=field_keyring(settings),
    )


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
        widening_tick_s=settings.missing_child_tick_s)


def streams_app(settings: Settings):
    from streams.app import create_app

    return create_app(streams_config(settings))
