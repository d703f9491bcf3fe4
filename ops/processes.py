"""Child processes of the local stack: `childsafe <command>` with its own settings, stoppable or killable.

Each child runs in its own session (so a kill reaches its whole process group) and, on Linux, is sent SIGTERM by
the kernel when the process that started it dies (``PR_SET_PDEATHSIG``): a test run or a supervisor that is
killed does not leave workers behind still consuming from the broker. (The kernel watches the starting *thread*:
start children from a thread that lives as long as they should.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int):
    """A ``preexec_fn``: ask the kernel for SIGTERM when our parent dies, and stop now if it already has."""
    def arm() -> None:
        if not sys.platform.startswith("linux"):
            return
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return  # not fatal: the child simply outlives a killed parent, as it did before
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)
    return arm


class ChildProcess:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.args = args
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> ChildProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "ops", *self.args], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent(os.getpid()))
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final commit."""
        if self.running():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.running():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def wait_http(self, url: str, timeout: float = 60) -> float:
        """Seconds until ``url`` answers 200; raises with the log tail if the process dies first."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"`childsafe {' '.join(self.args)}` exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer in {timeout:.0f}s:\n{self.log_tail()}")
