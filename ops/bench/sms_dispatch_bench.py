"""Dispatcher benchmark: sends/s of the dispatcher (ledger claim + policy + SDK send + settle) against raw
twilio SDK ``messages.create`` calls, same concurrency, same sandbox (a separate `childsafe sms-sandbox`
process), in one run.

    .venv/bin/python ops/bench/sms_dispatch_bench.py --messages 3000 --concurrency 8
    # as the workers run: PostgreSQL, the shared rate limit, a faulty provider, and where the time goes
    .venv/bin/python ops/bench/sms_dispatch_bench.py --database-url postgresql+psycopg://… --shared-rate 100000 \
        --fault server_error@0.1 --fault rate_limited@0.111 --fault response_lost@0.0625 --timings
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SID, TOKEN, SENDER = "AC" + "0" * 31 + "1", "sandbox-auth-token-not-a-secret", "+447700900999"


def numbers(offset: int, count: int) -> list[str]:
    """From the generator's documented block (+86 199…), sandbox only."""
    return [f"+86199{60_000_000 + offset + i:08d}" for i in range(count)]


def raw_sdk(url: str, count: int, concurrency: int) -> dict:
    from alerts.twilio_gateway import TwilioGateway

    client = TwilioGateway(account_sid=SID, auth_token=TOKEN, from_number=SENDER, base_url=url).client
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda to: client.messages.create(to=to, from_=SENDER, body="raw SDK bench",
                                                        status_callback="http://127.0.0.1:9/sms/status"),
                      numbers(0, count)))
    seconds = time.perf_counter() - started
    return {"messages": count, "seconds": round(seconds, 2), "sends_per_s": round(count / seconds)}


def dispatcher(url: str, count: int, concurrency: int, db_url: str, batch: int, shared_rate: float = 0.0,
               timed: bool = False, slot_per_send: bool = False) -> dict:
    from alerts.twilio_gateway import TwilioGateway
    from consumers.outage import OutageGuard
    from consumers.sms.cancellation_book import CancellationBook
    from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
    from consumers.sms.jobs import dedup_key
    from consumers.sms.ledger import SmsLedger
    from consumers.sms.rate_slots import SharedRateLimit
    from consumers.store.db import make_engine
    from contracts.clock import SystemClock
    from contracts.sms import SmsJob

    gateway = TwilioGateway(account_sid=SID, auth_token=TOKEN, from_number=SENDER, base_url=url)
    clock = SystemClock()
    engine = make_engine(db_url)
    ledger = SmsLedger(engine, clock)
    limiter = SharedRateLimit(engine, SENDER, shared_rate, clock) if shared_rate > 0 else None
    d = SmsDispatcher(ledger, gateway, clock, DispatchSettings(callback_base_url="http://127.0.0.1:9",
                                                               concurrency=concurrency),
                      cancellations=CancellationBook(engine, clock), rng=random.Random(), owner="dispatcher-bench",
                      guard=OutageGuard("sms-dispatch-bench", threading.Event(), random.Random()),
                      throttle=None if limiter is None else limiter.reserve,
                      slots=None if limiter is None or slot_per_send else limiter.reserve_many)
    jobs = [SmsJob(dedup_key=dedup_key("BENCH", f"g:{i}"), alert_id="BENCH", recipient_id=f"g:{i}", to=to,
                   body="dispatcher bench", priority="emergency", segments=1)
            for i, to in enumerate(numbers(count, count))]
    timings = _Timings(d, ledger, gateway) if timed else None
    started = time.perf_counter()
    for start in range(0, count, batch):
        d.dispatch(jobs[start:start + batch])
    while True:  # a faulty provider's retries and reconciliations, until every job is settled
        if d.sweep():
            continue
        if not any(state in ("sending", "retry", "reconcile") for state in ledger.counts("BENCH")):
            break
        time.sleep(0.02)  # the rest wait for their due time
    seconds = time.perf_counter() - started
    d.close()
    return {"messages": count, "seconds": round(seconds, 2), "sends_per_s": round(count / seconds),
            "ledger": ledger.counts("BENCH"), **({"timings": timings.as_dict()} if timings else {})}


class _Timings:
    """Wall time and calls per step of a send (claim, cancellation check, renew, rate slot, provider, settle),
    summed over the dispatcher's threads: where the time of a send goes."""

    def __init__(self, d, ledger, gateway):
        self.totals: dict[str, list[float]] = {}
        lock = threading.Lock()

        def timed(name, fn):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    with lock:
                        t = self.totals.setdefault(name, [0.0, 0])
                        t[0] += time.perf_counter() - started
                        t[1] += 1
            return wrapper

        for name in ("claim_new", "claim_due", "renew", "renew_all", "settle", "opted_out"):
            setattr(ledger, name, timed(f"ledger.{name}", getattr(ledger, name)))
        for name in ("send", "find_messages"):
            setattr(gateway, name, timed(f"provider.{name}", getattr(gateway, name)))
        d.cancellations.cancelled = timed("cancellations.cancelled", d.cancellations.cancelled)
        if d.throttle is not None:
            d.throttle = timed("rate_limit.reserve", d.throttle)
        if d.slots is not None:
            d.slots = timed("rate_limit.reserve_many", d.slots)

    def as_dict(self) -> dict:
        return {k: {"seconds": round(v[0], 2), "calls": v[1], "ms_per_call": round(1000 * v[0] / max(1, v[1]), 2)}
                for k, v in sorted(self.totals.items(), key=lambda kv: -kv[1][0])}


def _wait_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/_sandbox/counts", timeout=1)
            return
        except OSError:
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--shared-rate", type=float, default=0.0,
                        help="reserve a slot of the shared rate limit (messages/s) before each send, as the workers do")
    parser.add_argument("--fault", action="append", default=[], help="a sandbox fault rule (childsafe sms-sandbox --fault)")
    parser.add_argument("--timings", action="store_true", help="wall time per step of a send (summed over threads)")
    parser.add_argument("--slot-per-send", action="store_true",
                        help="reserve the shared rate's slot per send, with a renewal before it (as before the round's "
                             "reservation; what a process-local token bucket still does)")
    args = parser.parse_args()
    from consumers.store.migrate import upgrade
    from ops.kafka_local import free_port

    db_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='sms-dispatch-bench-')) / 'ledger.db'}"
    upgrade(db_url)
    port = free_port()
    faults = [a for rule in args.fault for a in ("--fault", rule)]
    sandbox = subprocess.Popen([str(Path(sys.executable).parent / "childsafe"), "sms-sandbox", "--port", str(port),
                                "--step-seconds", "3600", "--seed", "11", *faults],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url)
        raw = raw_sdk(url, args.messages, args.concurrency) if not args.fault else None  # raw calls would fail
        disp = dispatcher(url, args.messages, args.concurrency, db_url, args.batch, args.shared_rate, args.timings,
                          args.slot_per_send)
        counts = json.load(urllib.request.urlopen(url + "/_sandbox/counts"))
        print(json.dumps({"raw_sdk": raw, "dispatcher": disp,
                          "ratio": round(disp["sends_per_s"] / raw["sends_per_s"], 2) if raw else None,
                          "shared_rate": args.shared_rate, "slot_per_send": args.slot_per_send, "faults": args.fault,
                          "sandbox_total": counts["total"], "sandbox_duplicates": len(counts["duplicates"]),
                          "database": db_url.split(":", 1)[0]}, indent=2))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
