"""`childsafe <command>` reads its arguments before it loads a worker's libraries: every CLI start (a supervisor's
restart, `kafka status` in a health check, every test that runs the command) pays only for what it runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.realtime  # each test starts a fresh interpreter

HEAVY = ("faust", "aiohttp", "kafka", "aiokafka", "httpx", "twilio", "numpy", "shapely")


def _loaded_after(statement: str) -> list[str]:
    probe = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_registering_every_subcommand_loads_no_worker_library():
    assert _loaded_after("import ops.cli, ops.commands") == []


def test_the_help_of_every_command_still_builds():
    out = subprocess.run([sys.executable, "-m", "ops", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("kafka", "directory", "tokens", "audit", "topics", "sms-sandbox", "send", "worker"):
        assert command in out
