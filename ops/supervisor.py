"""The single-machine supervisor (`childsafe up`): every worker as a child process, one log file each, a dead
one restarted with backoff, all stopped cleanly on SIGTERM.

Several instances of a kind join the same consumer group (they share the work); instance ``n`` > 1 gets its
own HTTP and metrics ports (``port + n - 1``) and, for the streams worker, its own Faust data folder.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ops.processes import ChildProcess
from ops.settings import Settings

log = logging.getLogger("childsafe.supervisor")

# kind → (childsafe arguments, settings whose port must differ per instance)
KINDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "streams": (["worker"], ("web_port",)),
    "cases": (["cases", "consume"], ("case_metrics_port",)),
    "escalation": (["cases", "escalate"], ("escalation_metrics_port",)),
    "desk": (["cases", "serve"], ("case_api_port",)),
    "fanout": (["sms", "fanout"], ("sms_fanout_metrics_port",)),
    "dispatch": (["sms", "dispatch"], ("sms_dispatch_metrics_port",)),
    "webhooks": (["sms", "webhooks"], ("sms_webhook_port",)),
    "indicators": (["indicators", "record"], ()),  # incident, drill and recall facts for the province's indicators
}
DEFAULT_COUNTS = {kind: 1 for kind in KINDS}


@dataclass
class Supervised:
    name: str
    process: ChildProcess
    restarts: int = 0
    started_at: float = 0.0
    next_start: float = 0.0
    failures: int = 0  # deaths in a row that came soon after a start


@dataclass
class Supervisor:
    """``children`` run until ``stop``; backoff doubles from ``base_s`` to ``cap_s`` for a worker that keeps dying
    within ``stable_s`` of its start, and resets once it has run that long."""

    children: list[Supervised]
    base_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0
    poll_s: float = 0.5
    clock: object = field(default=time.monotonic)

    def start(self) -> Supervisor:
        for child in self.children:
            self._start(child)
        return self

    def _start(self, child: Supervised) -> None:
        child.process.start()
        child.started_at = self.clock()

    def check(self) -> list[str]:
        """Restart the children that died and whose backoff is over; returns the names restarted."""
        now, restarted = self.clock(), []
        for child in self.children:
            if child.process.running():
                if child.failures and now - child.started_at >= self.stable_s:
                    child.failures = 0
                continue
            if child.next_start == 0.0:  # just noticed: schedule the restart
                code = child.process.proc.returncode if child.process.proc else None
                quick = now - child.started_at < self.stable_s
                child.failures = child.failures + 1 if quick else 1
                delay = min(self.cap_s, self.base_s * 2 ** (child.failures - 1))
                child.next_start = now + delay
                log.warning("%s exited (%s); restarting in %.1fs", child.name, code, delay,
                            extra={"worker": child.name, "exit_code": code, "restart_in_s": delay})
            if now >= child.next_start:
                child.next_start = 0.0
                child.restarts += 1
                self._start(child)
                restarted.append(child.name)
        return restarted

    def child(self, name: str) -> Supervised:
        return next(c for c in self.children if c.name == name)

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.wait(self.poll_s):
                self.check()
        finally:
            self.stop()

    def stop(self) -> None:
        """SIGTERM every child (each commits what it finished and exits), SIGKILL those that do not within 20 s."""
        threads = [threading.Thread(target=c.process.stop) for c in self.children]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def parse_counts(spec: str) -> dict[str, int]:
    """``dispatch=2,streams=2`` (others stay at 1; 0 leaves a kind out)."""
    counts = dict(DEFAULT_COUNTS)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, n = part.partition("=")
        if kind not in KINDS:
            raise ValueError(f"--workers: unknown worker kind {kind!r} (known: {', '.join(KINDS)})")
        if not n.isdigit() or int(n) > 16:
            raise ValueError(f"--workers: {kind} needs a count from 0 to 16 (got {n!r})")
        counts[kind] = int(n)
    return counts


def plan(settings: Settings, counts: dict[str, int], log_dir: Path, env: dict[str, str] | None = None,
         ) -> list[Supervised]:
    """One child per instance, each with its own log file ``<kind>-<n>.log``."""
    base_env = {"CHILDSAFE_DATABASE_URL": settings.db_url(), **(env or {})}
    children = []
    for kind, n in counts.items():
        args, ports = KINDS[kind]
        for i in range(1, n + 1):
            name = f"{kind}-{i}"
            extra = dict(base_env)
            if i > 1:
                for port in ports:
                    value = getattr(settings, port)
                    extra[f"CHILDSAFE_{port.upper()}"] = str(value + i - 1 if value else 0)
                if kind == "streams":
                    extra["CHILDSAFE_RUN_DIR"] = str(settings.run_dir / f"streams-{i}")
            children.append(Supervised(name, ChildProcess(args, extra, log_dir / f"{name}.log")))
    return children
