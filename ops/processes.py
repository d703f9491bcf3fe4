"""Child processes of the local stack: `childsafe <command>` with its own settings, stoppable or killable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


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
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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
