"""`childsafe sms-sandbox`: run the local Twilio-compatible SMS sandbox in the foreground."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ops.cli import print_json, subcommand
from ops.errors import ChildSafeOpsError
from ops.settings import Settings

if TYPE_CHECKING:
    from alerts.sandbox import FaultPlan


def _plan(args) -> FaultPlan:
    from alerts.sandbox import FaultPlan, FaultRule, FaultSpecError

    try:
        data = json.loads(Path(args.faults_file).read_text()) if args.faults_file else {"rules": []}
        plan = FaultPlan.from_json({**data, "seed": args.seed if args.seed is not None else data.get("seed", 0)})
        plan.rules.extend(FaultRule.parse(spec) for spec in args.fault)
    except (OSError, json.JSONDecodeError, FaultSpecError, TypeError) as exc:
        raise ChildSafeOpsError(f"sms-sandbox faults: {exc}") from exc
    return plan


def _run(args, settings: Settings) -> int:
    from ops.bootstrap import build_sms_sandbox

    sandbox = build_sms_sandbox(settings, _plan(args), host=args.host, port=args.port, step_seconds=args.step_seconds,
                                duplicate_callback_rate=args.duplicate_callback_rate, seed=args.seed or 0)
    sandbox.start()
    print_json({"sandbox": sandbox.url, "account_sid": sandbox.account_sid, "faults": sandbox.api.faults.as_json(),
                "inspect": [f"{sandbox.url}/_sandbox/counts", f"{sandbox.url}/_sandbox/messages"]})
    sandbox.serve_forever()
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("sms-sandbox", help="run the local Twilio-compatible SMS sandbox",
                        description="Credentials come from CHILDSAFE_TWILIO_ACCOUNT_SID / CHILDSAFE_TWILIO_AUTH_TOKEN.")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None, help="0 = a free port (default: CHILDSAFE_SMS_SANDBOX_PORT)")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="kind[:pattern][@rate][~delay], e.g. server_error@0.1, invalid:^\\+4477009000, "
                        "response_lost@0.05; kinds: invalid unsubscribed not_mobile rate_limited server_error "
                        "slow response_lost response_timeout undelivered queued_long")
    p.add_argument("--faults-file", default=None, help='JSON {"seed": 1, "rules": ["server_error@0.1", {...}]}')
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--step-seconds", type=float, default=0.05, help="time between status transitions")
    p.add_argument("--duplicate-callback-rate", type=float, default=0.0)
    p.set_defaults(handler=_run)
