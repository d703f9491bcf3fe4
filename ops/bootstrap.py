"""The composition root: every engine, producer, app and client is built here, from Settings."""

from __future__ import annotations

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
        deadletter_limit_ratio=settings.deadletter_limit_ratio,
        deadletter_limit_window=settings.deadletter_limit_window,
        dedup_retention_s=settings.dedup_retention_days * 24 * 3600.0,
        metrics=settings.metrics_enabled,
    )


def streams_app(settings: Settings):
    from streams.app import create_app

    return create_app(streams_config(settings))
