"""`childsafe sms fanout|dispatch|webhooks|resend-unacknowledged|ledger`: run and operate the SMS workers."""

from __future__ import annotations

import logging
import signal
import threading

from ops.cli import print_json, subcommand
from ops.settings import Settings


def _stop_on_signals(settings: Settings | None = None, role: str = "", port: int = 0) -> threading.Event:
    """JSON logs (ops/logs.py), /metrics on ``port`` (0 = none), stop on SIGTERM/SIGINT."""
    from ops.logs import configure
    from ops.metrics import serve

    configure(getattr(logging, settings.log_level.upper()) if settings else logging.INFO,
              settings.log_format if settings else "json")
    if role and settings is not None:
        serve(role, port, settings.metrics_host)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _fanout(args, settings: Settings) -> int:
    from ops.bootstrap import build_fanout

    build_fanout(settings, _stop_on_signals(settings, "sms-fanout", settings.sms_fanout_metrics_port)).run()
    return 0


def _dispatch(args, settings: Settings) -> int:
    from ops.bootstrap import build_dispatch

    worker = build_dispatch(settings, _stop_on_signals(settings, "sms-dispatch", settings.sms_dispatch_metrics_port))
    try:
        worker.run()
    finally:
        worker.close()
    return 0


def _webhooks(args, settings: Settings) -> int:
    from aiohttp import web

    from ops.bootstrap import build_status_consumer, build_webhooks

    hooks = build_webhooks(settings)  # refuses the public default token unless the sandbox is in use
    stop = threading.Event()
    status = build_status_consumer(settings)

    def apply_recorded() -> None:  # what the webhooks recorded but could not apply (a locked database)
        while not stop.is_set():
            try:
                status.poll_once(timeout_ms=500)
            except Exception as exc:
                logging.getLogger("childsafe.sms.status").error("status consumer: %s", type(exc).__name__)
                stop.wait(2)

    thread = threading.Thread(target=apply_recorded, name="sms-status-consumer", daemon=True)
    thread.start()
    try:
        web.run_app(hooks.app(), host=settings.sms_webhook_host, port=settings.sms_webhook_port,
                    access_log=None, print=lambda *_: None)
    finally:
        stop.set()
        thread.join(10)
        status.consumer.close()
    return 0


def _resend(args, settings: Settings) -> int:
    from consumers.sms.reminders import resend_unacknowledged
    from contracts.clock import SystemClock
    from ops.bootstrap import build_body_rules, build_engine, build_job_sink, build_reminder_policy

    mode = None if args.mode is None else args.mode == "exercise"
    result = resend_unacknowledged(build_engine(settings), build_job_sink(settings), SystemClock(), args.alert_id,
                                   args.round, build_body_rules(settings), build_reminder_policy(settings), mode)
    print_json(result.__dict__)
    return 0


def _ledger(args, settings: Settings) -> int:
    from consumers.sms.ledger import SmsLedger
    from contracts.clock import SystemClock
    from ops.bootstrap import build_engine

    print_json(SmsLedger(build_engine(settings), SystemClock()).counts(args.alert_id))
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("sms", help="SMS workers: fan-out, dispatcher, webhooks, reminders")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("fanout", help="alert requests -> one SMS job per recipient").set_defaults(handler=_fanout)
    actions.add_parser("dispatch", help="SMS jobs -> ledger -> provider").set_defaults(handler=_dispatch)
    actions.add_parser("webhooks", help="serve status callbacks and inbound SMS").set_defaults(handler=_webhooks)
    resend = actions.add_parser("resend-unacknowledged", help="remind recipients who have not acknowledged an alert")
    resend.add_argument("alert_id")
    resend.add_argument("--round", type=int, default=None, help="reminder round (default: the next one)")
    resend.add_argument("--mode", choices=["exercise", "actual"], default=None,
                        help="refuse unless the alert is of this mode (exercise and actual are never mixed)")
    resend.set_defaults(handler=_resend)
    ledger = actions.add_parser("ledger", help="ledger rows by state")
    ledger.add_argument("--alert-id", default=None)
    ledger.set_defaults(handler=_ledger)
