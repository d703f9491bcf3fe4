"""Dispatcher benchmark: sends/s of the dispatcher (ledger claim + policy + SDK send + settle) against raw
twilio SDK ``messages.create`` calls, same concurrency, same sandbox (a separate `childsafe sms-sandbox`
process), in one run.

    .venv/bin/python ops/bench/sms_dispatch_bench.py --messages 3000 --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
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


def dispatcher(url: str, count: int, concurrency: int, db_url: str, batch: int) -> dict:
    from alerts.twilio_gateway import TwilioGateway
    from consumers.sms.cancellation_book import CancellationBook
    from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
    from consumers.sms.jobs import dedup_key
    from consumers.sms.ledger import SmsLedger
    from consumers.store.db import make_engine
    from contracts.clock import SystemClock
    from contracts.sms import SmsJob

    gateway = TwilioGateway(account_sid=SID, auth_token=TOKEN, from_number=SENDER, base_url=url)
    clock = SystemClock()
    ledger = SmsLedger(make_engine(db_url), clock)
    d = SmsDispatcher(ledger, gateway, clock,
                      DispatchSettings(callback_base_url="http://127.0.0.1:9", concurrency=concurrency),
                      cancellations=CancellationBook(ledger.engine, clock), rng=random.Random(), owner="dispatcher-bench")
    jobs = [SmsJob(dedup_key=dedup_key("BENCH", f"g:{i}"), alert_id="BENCH", recipient_id=f"g:{i}", to=to,
                   body="dispatcher bench", priority="emergency", segments=1)
            for i, to in enumerate(numbers(count, count))]
    started = time.perf_counter()
    for start in range(0, count, batch):
        d.dispatch(jobs[start:start + batch])
    seconds = time.perf_counter() - started
    d.close()
    return {"messages": count, "seconds": round(seconds, 2), "sends_per_s": round(count / seconds),
            "ledger": ledger.counts("BENCH")}


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
    args = parser.parse_args()
    from consumers.store.migrate import upgrade
    from ops.kafka_local import free_port

    db_url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='sms-dispatch-bench-')) / 'ledger.db'}"
    upgrade(db_url)
    port = free_port()
    sandbox = subprocess.Popen([str(Path(sys.executable).parent / "childsafe"), "sms-sandbox", "--port", str(port),
                                "--step-seconds", "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url)
        raw = raw_sdk(url, args.messages, args.concurrency)
        disp = dispatcher(url, args.messages, args.concurrency, db_url, args.batch)
        counts = json.load(urllib.request.urlopen(url + "/_sandbox/counts"))
        print(json.dumps({"raw_sdk": raw, "dispatcher": disp,
                          "ratio": round(disp["sends_per_s"] / raw["sends_per_s"], 2),
                          "sandbox_total": counts["total"], "sandbox_duplicates": len(counts["duplicates"]),
                          "database": db_url.split(":", 1)[0]}, indent=2))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
