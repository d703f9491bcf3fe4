"""`childsafe demo`: bring up the whole local stack (ops/demo_stack.py), push a realistic scenario
(ops/demo_scenario.py), show what happened (ops/demo_report.py), then serve the web console.

Re-running it is safe: reports carry fixed Idempotency-Keys, so a second run routes and sends nothing
twice and shows the same outcome.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from consumers.store.core import School
from consumers.store.db import make_engine, session_factory
from contracts.clock import SystemClock
from ops.demo_report import print_report
from ops.demo_scenario import play
from ops.demo_stack import say, start_stack
from ops.settings import Settings


def run_demo(settings: Settings, serve: bool = True) -> int:
    stack = start_stack(settings)
    try:
        played = play(stack)
        print_report(stack, played)
        stack.processes["console"].wait_http(stack.console_url + "/health", timeout=60)
        people = _console_people(stack.settings, stack.schools[0]) if stack.schools else []
        if serve:
            _serve_until_interrupted(stack.console_url, people)
        else:
            say(f"\n▶ web console was up at {stack.console_url} ({len(people)} demo sign-ins); --no-serve: stopping")
        return 0
    finally:
        stack.stop()


DEMO_PASSWORD = "local-demo-{username}"  # local only: the console listens on 127.0.0.1 unless configured otherwise


def _console_people(settings: Settings, school: School) -> list[tuple[str, str, str]]:
    """One console account per role at the scenario school's district (created once): (username, role, unit)."""
    from console.accounts import create_user, find_user
    from consumers.store.core import Agency

    engine = make_engine(settings.db_url())
    people = []
    try:
        with session_factory(engine).begin() as session:
            def agency(kind: str) -> Agency | None:
                return session.scalars(select(Agency).where(Agency.kind == kind,
                                                            Agency.district_code == school.district_code)).first()
            police, civil = agency("public_security"), agency("civil_affairs")
            wanted = [("demo.school", "school_officer", school.id)]
            wanted += [("demo.police", "police_duty_officer", police.id)] if police else []
            wanted += [("demo.civil", "agency_duty_officer", civil.id)] if civil else []
            if police is not None and police.supervisor_id:
                wanted.append(("demo.supervisor", "supervisor", police.supervisor_id))
            for username, role, unit in wanted:
                if find_user(session, username) is None:
                    create_user(session, username, DEMO_PASSWORD.format(username=username), role, unit,
                                f"演示 {role}", SystemClock().now())
                people.append((username, role, unit))
    finally:
        engine.dispose()
    return people


def _serve_until_interrupted(console_url: str, people: list[tuple[str, str, str]]) -> None:
    say(f"\n▶ web console: {console_url}  (sign-ins below are local-only demo accounts)")
    for username, role, unit in people:
        say(f"  {role:<20} {unit:<16} user {username:<16} password {DEMO_PASSWORD.format(username=username)}")
    say("  serving until interrupted (Ctrl-C); `childsafe demo --no-serve` runs the scenario and exits")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        say("\n▶ stopping the workers")
