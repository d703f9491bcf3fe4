"""`make demo`'s job, run as a user runs it (`childsafe demo --no-serve`) on a fresh run folder and free ports:
every scenario step reaches people — the recall and the CAP exercise included, on a broker the worker has
never seen (on a fresh broker they used to reach nobody) — nothing is sent twice, and a sign-in is printed
for each of the console's four roles."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.kafka_local import free_port

pytestmark = pytest.mark.integration

PORTS = ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "WEB_PORT", "STREAMS_METRICS_PORT", "SMS_SANDBOX_PORT",
         "CASE_API_PORT", "SMS_WEBHOOK_PORT", "CONSOLE_PORT", "CASE_METRICS_PORT", "ESCALATION_METRICS_PORT",
         "SMS_FANOUT_METRICS_PORT", "SMS_DISPATCH_METRICS_PORT")


def test_the_demo_reaches_people_on_a_fresh_broker_and_prints_a_sign_in_per_role(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHILDSAFE_")}
    env.update({f"CHILDSAFE_{name}": str(free_port()) for name in PORTS})
    env["CHILDSAFE_RUN_DIR"] = str(tmp_path / "run")
    childsafe = str(Path(sys.executable).parent / "childsafe")
    try:
        done = subprocess.run([childsafe, "demo", "--no-serve"], env=env, capture_output=True, text=True,
                              timeout=600)
    finally:
        subprocess.run([childsafe, "kafka", "down"], env=env, capture_output=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert out.count(": 202 accepted as") == 4 and "无效报告 (invalid report over HTTP): 422 refused" in out
    for section in ("召回 SAMR-DEMO-0001", "CAP 演练"):
        sent = re.search(re.escape(section) + r".*?\n\s+• (\d+) SMS", out, re.S)
        assert sent and int(sent.group(1)) > 0, f"{section} reached nobody:\n{out[-3000:]}"
    assert "【演练】" in out, "an exercise SMS must say it is an exercise"
    assert "duplicates (one body twice to one number): none" in out
    assert "(4 demo sign-ins, local-only accounts)" in out
    for role in ("school_officer", "police_duty_officer", "agency_duty_officer", "supervisor"):
        assert re.search(rf"^  {role} +\S+ +user demo\.\w+ +password \S+$", out, re.M), role
    assert "malformed bytes → dead-letter topic" in out
