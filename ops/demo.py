"""`childsafe demo`: bring up the whole local stack, push a realistic scenario, show what happened.

Kafka (KRaft), the streams worker (triage + HTTP intake), the case consumer, the SMS fan-out and
dispatcher, the webhooks and the local Twilio-compatible sandbox, over a fictional city directory.
Re-running it is safe: reports carry fixed Idempotency-Keys, so a second run routes and sends nothing
twice and shows the same outcome.

One module per job: ops/demo_stack.py starts and stops the stack, ops/demo_scenario.py plays the scenario,
ops/demo_report.py prints what happened; this one runs them in order.
"""

from __future__ import annotations

import threading

from ops.demo_report import report, sign_ins
from ops.demo_scenario import play, wait_quiet
from ops.demo_stack import demo_stack, say
from ops.settings import Settings


def _serve_until_interrupted() -> None:
    say("  serving until interrupted (Ctrl-C); `childsafe demo --no-serve` runs the scenario and exits")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        say("\n▶ stopping the workers")


def run_demo(settings: Settings, serve: bool = True) -> int:
    with demo_stack(settings) as stack:
        played = play(stack)
        say("\n▶ waiting for the SMS to settle at the sandbox …")
        report(stack, played, wait_quiet(stack.sandbox_url))
        sign_ins(stack)
        if serve:
            _serve_until_interrupted()
        else:
            say("  --no-serve: stopping")
    return 0
