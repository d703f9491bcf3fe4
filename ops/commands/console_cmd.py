"""`childsafe console` (the web console) and `childsafe users create|disable|list` (its accounts)."""

from __future__ import annotations

import getpass
import secrets
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from consumers.cases.access import Role
from consumers.store.db import make_engine, session_factory, transaction
from contracts.clock import Clock, SystemClock
from ops.cli import print_json, subcommand
from ops.settings import Settings

if TYPE_CHECKING:
    from console.web import Console


def build_console(settings: Settings, clock: Clock | None = None) -> Console:
    """The console's composition root: one engine, the desks, sign-in, the intake client."""
    from consumers.cases.actions import CaseDesk
    from ops.commands.missing_child_cmd import missing_child_desk
    from console.intake import IntakeClient
    from console.sessions import SessionPolicy, SignIn
    from console.web import Console

    from console.emergency import EmergencyDesk
    from ops.sms_provider import make_body_rules
    from ops.sms_workers import job_sink

    clock = clock or SystemClock()
    engine = make_engine(settings.db_url())
    factory = session_factory(engine)
    policy = SessionPolicy(idle=timedelta(minutes=settings.console_session_idle_minutes),
                           lifetime=timedelta(hours=settings.console_session_hours),
                           max_failures=settings.console_signin_max_failures,
                           failure_window=timedelta(minutes=settings.console_signin_window_minutes))
    intake_url = settings.console_intake_url or f"http://{settings.web_host}:{settings.web_port}"
    return Console(factory=factory, clock=clock, desk=CaseDesk(factory, clock), signin=SignIn(factory, clock, policy),
                   intake=IntakeClient(intake_url, settings.console_intake_token.get_secret_value()),
                   missing=missing_child_desk(factory, clock, settings),
                   secure_cookies=settings.console_secure_cookies,
                   acknowledge_minutes=settings.case_acknowledge_minutes,
                   emergency=EmergencyDesk(engine, settings.cap_delegate_map, make_body_rules(settings),
                                           job_sink=lambda: job_sink(settings)))


def _serve(args, settings: Settings) -> int:
    from aiohttp import web

    from console.app import build_app

    console = build_console(settings)
    print(f"console on http://{settings.console_host}:{settings.console_port}", flush=True)
    web.run_app(build_app(console), host=settings.console_host, port=settings.console_port, print=None,
                access_log=None)
    return 0


def _users(args, settings: Settings) -> int:
    from console.accounts import create_user, list_users
    from console.sessions import disable_user

    engine = make_engine(settings.db_url())
    factory, now = session_factory(engine), SystemClock().now()
    try:
        if args.action == "list":
            with factory() as session:
                print_json(list_users(session))
            return 0
        if args.action == "disable":
            with transaction(factory) as session:
                ended = disable_user(session, args.username, now)
            print_json({"username": args.username, "disabled": True, "sessions_ended": ended})
            return 0
        generated = False
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            password = getpass.getpass("password (at least 10 characters): ")
        else:
            password, generated = secrets.token_urlsafe(12), True
        with transaction(factory) as session:
            user = create_user(session, args.username, password, args.role, args.unit, args.name, now)
            out = {"username": user.username, "role": user.role, "unit": user.unit_id}
        if generated:
            out["password"] = password
            out["note"] = "generated; shown once, only its argon2 hash is stored"
        print_json(out)
        return 0
    finally:
        engine.dispose()


@subcommand
def register(subs) -> None:
    p = subs.add_parser("console", help="serve the web console (CHILDSAFE_CONSOLE_HOST:CHILDSAFE_CONSOLE_PORT)")
    p.set_defaults(handler=_serve)
    u = subs.add_parser("users", help="the console's user accounts (role × unit, like the desk tokens)")
    u.add_argument("action", choices=["create", "disable", "list"])
    u.add_argument("--username", help="create/disable: the sign-in name")
    u.add_argument("--role", choices=[r.value for r in Role if r is not Role.OPERATOR],  # console.accounts checks
                   help="create")
    u.add_argument("--unit", help="create: school id (school_officer) or agency id (the others)")
    u.add_argument("--name", default="", help="create: the name shown in the console")
    u.add_argument("--password-stdin", action="store_true", help="create: read the password from stdin")
    u.set_defaults(handler=_users)
