"""`childsafe audit verify`: check the case audit trail's hash chain on its own and against the heads anchored
on the audit topic; name the first divergence; anchor the head when everything holds."""

from __future__ import annotations

from ops.cli import print_json, subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from kafka.errors import KafkaError

    from consumers.cases.audit import verify
    from consumers.kafka_io import ProduceFailed
    from ops.bootstrap import build_audit_anchor, build_case_publisher, build_case_runtime

    runtime = build_case_runtime(settings)
    publisher = None
    try:
        if args.offline:
            with runtime.factory() as session:
                verdict = verify(session)
        else:
            publisher = build_case_publisher(settings)
            anchor = build_audit_anchor(settings, runtime, publisher)
            try:
                verdict = anchor.verify()
            except (KafkaError, ProduceFailed) as exc:
                print_json({"ok": False, "problems": [f"anchors unreadable from Kafka ({exc!r}); "
                                                      "check the broker, or --offline for the database chain only"]})
                return 1
    finally:
        if publisher is not None:
            publisher.close()
        runtime.close()
    print_json({"ok": verdict.ok, "checked": verdict.checked, "anchored": verdict.anchored,
                "head_hash": verdict.head_hash, "problems": verdict.problems})
    return 0 if verdict.ok else 1


@subcommand
def register(subs) -> None:
    p = subs.add_parser("audit", help="verify the hash-chained case audit trail against its anchors on Kafka")
    p.add_argument("action", choices=["verify"])
    p.add_argument("--offline", action="store_true",
                   help="check only the database chain (weaker: a consistent rewrite passes); no Kafka needed")
    p.set_defaults(handler=_run)
