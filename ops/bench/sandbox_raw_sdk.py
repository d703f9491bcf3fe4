"""Raw SDK sends/s to the local SMS sandbox: the baseline the dispatcher benchmark compares against.

    .venv/bin/python ops/bench/sandbox_raw_sdk.py --messages 3000 --threads 1 4 8

Starts `childsafe sms-sandbox` as its own process on a free port (or uses --url), then for each thread count
sends --messages messages with `client.messages.create` (one twilio Client per thread, keep-alive), and
checks the sandbox received exactly that many. Numbers are +86 mobile-format from the 138-0000-xxxx
block, used only against the local sandbox. Prints one JSON object; `run_raw_sdk` is importable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "sandbox-auth-token-not-a-secret"


def recipient(i: int) -> str:
    return f"+86138{i:08d}"


def run_raw_sdk(url: str, messages: int, threads: int, *, account_sid: str = ACCOUNT_SID,
                auth_token: str = AUTH_TOKEN, offset: int = 0) -> dict:
    """Send ``messages`` messages over ``threads`` threads; sends/s and latency percentiles (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def worker(indices: range) -> None:
        client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
        client.api.base_url = url
        mine = []
        for i in indices:
            t0 = time.perf_counter()
            try:
                client.messages.create(to=recipient(offset + i), from_="+447700900999",
                                       body=f"【演练】【儿童安全】基准测试消息 {i}")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(repr(exc))
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    per = -(-messages // threads)
    pool = [threading.Thread(target=worker, args=(range(k * per, min(messages, (k + 1) * per)),))
            for k in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"threads": threads, "messages": messages, "errors": len(errors), "seconds": round(elapsed, 3),
            "sends_per_s": round(messages / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


def sandbox_total(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/counts", timeout=10) as resp:
        return json.loads(resp.read())["total"]


def start_sandbox() -> tuple[subprocess.Popen, str]:
    exe = str(Path(sys.executable).parent / "childsafe")
    proc = subprocess.Popen([exe, "sms-sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "CHILDSAFE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                                 "CHILDSAFE_TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    text = ""
    while not text.rstrip().endswith("}"):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("sms-sandbox exited before printing its address")
        text += line
    return proc, json.loads(text)["sandbox"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--url", default=None, help="an already running sandbox (default: start one)")
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_sandbox()
    try:
        results, sent = [], 0
        for threads in args.threads:
            before = sandbox_total(url)
            result = run_raw_sdk(url, args.messages, threads, offset=sent)
            result["sandbox_received"] = sandbox_total(url) - before
            results.append(result)
            sent += args.messages
        print(json.dumps({"benchmark": "raw twilio SDK -> local sandbox", "cpus": os.cpu_count(),
                          "results": results}, indent=2))
        return 0 if all(r["sandbox_received"] == r["messages"] and not r["errors"] for r in results) else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)


if __name__ == "__main__":
    sys.exit(main())
