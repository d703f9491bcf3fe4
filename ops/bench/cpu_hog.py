"""Run a command N times in a row while busy-loop processes hog the CPU (a `stress`-like load).

    python -m ops.bench.cpu_hog --hogs 2 --repeat 10 -- .venv/bin/python -m pytest -q tests/integration/test_worker_recovery.py

Prints each run's exit status and time; exits 1 at the first failing run (its output is shown). The hogs
are this script's own children and are stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time


def _spin() -> None:  # pragma: no cover - runs in the hog processes
    while True:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hogs", type=int, default=2, help="busy-loop processes (default: 2)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("command: give the command to repeat after --")
    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    try:
        for n in range(1, args.repeat + 1):
            started = time.monotonic()
            run = subprocess.run(command, capture_output=True, text=True)
            print(f"run {n}/{args.repeat}: exit {run.returncode} in {time.monotonic() - started:.0f}s "
                  f"({args.hogs} CPU hogs)", flush=True)
            if run.returncode != 0:
                why = [line for line in run.stdout.splitlines() if line.startswith(("E ", "FAILED", "ERROR"))]
                print("\n".join(why[:40]) or run.stdout[-5000:], run.stderr[-2000:], sep="\n")
                return 1
        print(f"{args.repeat} runs in a row passed under {args.hogs} CPU hogs")
        return 0
    finally:
        for hog in hogs:
            hog.terminate()
            hog.join(5)


if __name__ == "__main__":
    sys.exit(main())
