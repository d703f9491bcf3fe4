"""`childsafe send KIND FILE`: send a report (incident, recall, safety report, emergency alert) from JSON.

The file holds a payload or a full CloudEvent. It is validated here first, so a bad file is refused
with its fields named before anything is sent; then it goes to the HTTP intake (default) or straight
to Kafka (`--kafka`), and the command prints the accepted event id.
"""

from __future__ import annotations

import json
from pathlib import Path

from contracts.clock import SystemClock
from contracts.errors import ChildSafeError, ContractError
from ops.cli import print_json, subcommand
from ops.settings import Settings

KINDS = {"incident": "/v1/incidents", "recall": "/v1/recalls", "safety-report": "/v1/safety-reports",
         "emergency-alert": "/v1/emergency-alerts"}


class SendError(ChildSafeError):
    """The report was not accepted: the message says whether to fix the file or retry."""


def _run(args, settings: Settings) -> int:
    from streams.intake import ROUTES, parse_submission

    route = next(r for r in ROUTES if r.path == KINDS[args.kind])
    raw = Path(args.file).read_bytes()
    try:
        event = parse_submission(route, raw, args.idempotency_key, source="/childsafe/cli/send",
                                 received=SystemClock().now())
    except ContractError as exc:
        print_json({"error": f"{args.file} is not a valid {args.kind}", "errors": [e.as_dict() for e in exc.errors]})
        return 2
    if args.kafka:
        from ops.bootstrap import build_intake_producer

        producer = build_intake_producer(settings)
        meta = producer.send(route.topic.name(settings.topic_namespace), key=(event.subject or event.id).encode(),
                             value=event.to_bytes()).get(30)
        producer.close()
        print_json({"id": event.id, "topic": meta.topic, "partition": meta.partition, "offset": meta.offset})
        return 0
    url = args.url or f"http://{settings.web_host}:{settings.web_port}"
    headers = {"content-type": "application/json", "Idempotency-Key": event.id}
    token = args.token or ""  # no token: only an intake running CHILDSAFE_INTAKE_INSECURE_LOCAL takes it
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.loads(raw)
    if "specversion" not in body:  # send the payload; the server wraps it under our event id
        raw = json.dumps(body, ensure_ascii=False).encode()
    import httpx

    try:
        resp = httpx.post(url + route.path, content=raw, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise SendError(f"intake at {url} unreachable ({exc}); retry — the same id will be routed once") from None
    print_json(resp.json())
    return 0 if resp.status_code == 202 else 2


@subcommand
def register(subs) -> None:
    p = subs.add_parser("send", help="send a report from a JSON file over HTTP (or --kafka)")
    p.add_argument("kind", choices=sorted(KINDS))
    p.add_argument("file")
    p.add_argument("--kafka", action="store_true", help="produce straight to the intake topic")
    p.add_argument("--url", help="intake base URL (default: this machine's worker)")
    p.add_argument("--token", help="intake bearer token (`childsafe intake token`)")
    p.add_argument("--idempotency-key", help="event id to use; a resend with the same key is routed once")
    p.set_defaults(handler=_run)
