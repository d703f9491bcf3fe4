"""`childsafe cases …`: run the case consumer, the escalation runner and the HTTP desk; act on cases by token."""

from __future__ import annotations

import logging
import signal
import threading

from ops.cli import print_json, subcommand
from ops.settings import Settings

ACTIONS = {  # CLI action → (desk method, positional argument names after the case id)
    "show": ("view_case", []), "reporter": ("reporter", []), "ack": ("acknowledge", ["reason"]),
    "assign": ("assign", ["assignee", "reason"]), "note": ("note", ["text"]),
    "services": ("start_services", ["service", "reason"]), "refer": ("refer", ["to_agency_id", "reason"]),
    "answer": ("answer_referral", ["referral_id", "decision", "reason"]), "close": ("close", ["outcome", "reason"]),
    "reopen": ("reopen", ["reason"]),
}

HELP = {"show": "show a case (audited read)",
        "reporter": "reveal a case's confidential reporter (the lead agency's police; audited)",
        "ack": "acknowledge a case for your agency", "assign": "assign an investigator",
        "note": "add a note", "services": "start services: rescue, treatment or counselling",
        "refer": "refer a case to another agency", "answer": "answer a referral: accept, reject (reason) or complete",
        "close": "close a case with an outcome", "reopen": "reopen a closed case (reason required)"}


def _stop_on_signals(settings: Settings | None = None) -> threading.Event:
    """Long-running commands log JSON lines to stderr (ops/logs.py) and stop cleanly on SIGTERM/SIGINT."""
    from ops.logs import configure

    configure(getattr(logging, settings.log_level.upper()) if settings else logging.INFO,
              settings.log_format if settings else "json")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _consume(args, settings: Settings) -> int:
    from ops.bootstrap import run_case_consumer
    from ops.metrics import serve

    stop = _stop_on_signals(settings)
    serve("case-consumer", settings.case_metrics_port, settings.metrics_host)
    run_case_consumer(settings, stop)
    return 0


def _escalate(args, settings: Settings) -> int:
    from ops.bootstrap import run_escalation
    from ops.metrics import serve

    stop = _stop_on_signals(settings)
    serve("escalation", 0 if args.once else settings.escalation_metrics_port, settings.metrics_host)
    run_escalation(settings, stop, once=args.once)
    return 0


def _serve(args, settings: Settings) -> int:
    from aiohttp import web

    from ops.bootstrap import build_case_api, build_case_runtime

    _stop_on_signals(settings)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    runtime = build_case_runtime(settings)
    web.run_app(build_case_api(settings, runtime), host=settings.case_api_host,
                port=args.port or settings.case_api_port, print=None)
    runtime.close()
    return 0


def _act(args, settings: Settings) -> int:
    from ops.bootstrap import build_case_desk, build_case_runtime

    runtime = build_case_runtime(settings)
    desk = build_case_desk(runtime)
    token = args.token or settings.case_token.get_secret_value()
    try:
        if args.action == "list":
            print_json(desk.list_cases(token, args.state, args.breached))
        else:
            method, names = ACTIONS[args.action]
            values = [getattr(args, n) for n in names]
            if args.action == "answer":
                values[0] = int(values[0])
            print_json(getattr(desk, method)(token, args.case_id, *values))
    finally:
        runtime.close()
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("cases", help="mandatory-reporting cases: consumer, escalation, desk and actions")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("consume", help="open cases from the case commands topic").set_defaults(handler=_consume)
    esc = actions.add_parser("escalate", help="escalate missed deadlines (loop; --once for one tick)")
    esc.add_argument("--once", action="store_true")
    esc.set_defaults(handler=_escalate)
    serve = actions.add_parser("serve", help="serve the case desk over HTTP")
    serve.add_argument("--port", type=int, default=0)
    serve.set_defaults(handler=_serve)
    lister = actions.add_parser("list", help="cases in your token's scope")
    lister.add_argument("--state")
    lister.add_argument("--breached", action="store_true", help="only cases with a missed deadline")
    lister.set_defaults(handler=_act)
    for name, (_, names) in ACTIONS.items():
        a = actions.add_parser(name, help=HELP[name])
        a.add_argument("case_id")
        for n in names:
            optional = n == "reason" and name not in ("reopen", "refer")
            a.add_argument(n, nargs="?" if optional else None, default="" if optional else None)
        a.set_defaults(handler=_act)
    from ops.commands import missing_child_cmd

    missing_child_cmd.register(actions)
    for a in [lister, *[actions.choices[n] for n in ACTIONS]]:
        a.add_argument("--token", default="", help="access token (default: CHILDSAFE_CASE_TOKEN)")
