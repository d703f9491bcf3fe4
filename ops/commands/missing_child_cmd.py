"""`childsafe cases missing-child CASE_ID …` and `childsafe cases found CASE_ID [reason]`: publish and stop the
widening missing-child alert from a case (police duty officers only; see consumers/cases/missing_child.py)."""

from __future__ import annotations

from ops.cli import print_json
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.bootstrap import build_case_runtime, build_missing_child_desk

    runtime = build_case_runtime(settings)
    desk = build_missing_child_desk(settings, runtime.factory, runtime.clock)
    token = args.token or settings.case_token.get_secret_value()
    try:
        if args.action == "missing-child":
            print_json(desk.publish(token, args.case_id, args.last_seen_at, args.age, args.description,
                                    lat=args.lat, lon=args.lon, school_id=args.school))
        else:
            print_json(desk.found(token, args.case_id, args.reason))
    finally:
        runtime.close()
    return 0


def register(actions) -> None:
    """Adds the two actions to `childsafe cases`."""
    mc = actions.add_parser("missing-child", help="publish the widening missing-child alert from a case "
                                                  "(police only): last seen at --lat/--lon or --school")
    mc.add_argument("case_id")
    mc.add_argument("--last-seen-at", required=True, help="ISO 8601 with offset, e.g. 2026-05-01T16:30:00+08:00")
    mc.add_argument("--age", type=int, required=True)
    mc.add_argument("--description", required=True, help="clothing and appearance; never the child's name")
    mc.add_argument("--lat", type=float)
    mc.add_argument("--lon", type=float)
    mc.add_argument("--school", help="last seen at this school (default: the case's school)")
    found = actions.add_parser("found", help="the missing child is found: stop every further SMS at once")
    found.add_argument("case_id")
    found.add_argument("reason", nargs="?", default="")
    for p in (mc, found):
        p.add_argument("--token", default="", help="access token (default: CHILDSAFE_CASE_TOKEN)")
        p.set_defaults(handler=_run)
