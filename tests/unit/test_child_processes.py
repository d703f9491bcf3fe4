"""A killed parent (a test run, the supervisor) does not leave its `childsafe` children running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.wait_for import wait_for

ROOT = Path(__file__).resolve().parents[2]

PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ops.kafka_local import free_port
    from ops.processes import ChildProcess
    child = ChildProcess(["sms-sandbox", "--port", str(free_port())], {}, Path(sys.argv[1])).start()
    print(child.proc.pid, flush=True)
    time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has exited; only its reaping is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_sigkilled_parent_takes_its_children_down(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "child.log")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.kill()  # SIGKILL: the parent runs no cleanup at all
        parent.wait(10)
        wait_for(lambda: not _alive(child), timeout=20)
    finally:
        if parent.poll() is None:
            parent.kill()
        try:
            os.kill(child, signal.SIGKILL)
        except (ProcessLookupError, NameError, UnboundLocalError):
            pass
