"""`childsafe cap export ALERT_ID`: the CAP 1.2 XML of an alert the system sent, validated against the XSD."""

from __future__ import annotations

import sys

from ops.cli import subcommand
from ops.settings import Settings


def _export(args, settings: Settings) -> int:
    from consumers.sms.cap_export import alert_as_cap
    from ops.bootstrap import build_engine

    xml = alert_as_cap(build_engine(settings), args.alert_id, args.sender)
    sys.stdout.buffer.write(xml)
    sys.stdout.flush()
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("cap", help="CAP 1.2 export of alerts the system sent")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="print one alert as CAP 1.2 XML (validated against the OASIS XSD)")
    export.add_argument("alert_id")
    export.add_argument("--sender", default="childsafe.local", help="CAP <sender> of the exported message")
    export.set_defaults(handler=_export)
