"""`childsafe console` (the web console) and `childsafe users create|disable|list` (its accounts)."""

from __future__ import annotations

import getpass
import secrets
import sys

from consumers.cases.access import Role
from consumers.store.db import session_factory, transaction
from contracts.clock import SystemClock
from ops.cli import print_json, subcommand
from ops.settings import Settings


def _serve(args, settings: Settings) -> int:
    from aiohttp import web

    from console.app import build_app
    from ops.bootstrap import build_console

    console = build_console(settings)
    print(f"console on http://{settings.console_host}:{settings.console_port}", flush=True)
    web.run_app(build_app(console), host=settings.console_host, port=settings.console_port, print=None,
                access_log=None)
    return 0


def _users(args, settings: Settings) -> int:
    from console.accounts import create_user, list_users
    from console.sessions import disable_user
    from ops.bootstrap import build_engine

    engine = build_engine(settings)
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
