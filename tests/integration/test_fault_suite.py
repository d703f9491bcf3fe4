"""The fault suite's short profile (``python -m ops.bench.faults --profile short``): two of every worker, a
three-node cluster and PostgreSQL of its own, every kind of worker SIGKILLed, a broker SIGKILLed and restarted,
PostgreSQL stopped, a faulty provider. Fails on any count that must be zero; the full profile is `make faults`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.faults]


@pytest.mark.timeout(900)
def test_short_fault_profile_loses_nothing_and_sends_nothing_twice(tmp_path):
    out = tmp_path / "faults.json"
    run = subprocess.run([sys.executable, "-m", "ops.bench.faults", "--profile", "short", "--json", str(out),
                          "--work-dir", str(tmp_path / "work")], capture_output=True, text=True, timeout=880)
    print(run.stdout[-6000:])
    assert out.exists(), f"the suite did not finish:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    result = json.loads(out.read_text())
    assert result["failures"] == [], result["failures"]
    assert run.returncode == 0, run.stdout[-3000:]
    assert result["reports_accepted"] > 0 and result["reports_lost"] == 0
    assert result["duplicate_cases"] == 0 and result["missing_cases"] == 0
    assert result["sms_jobs"] > 0 and result["sms_duplicates"] == 0 and result["sms_missing"] == 0
    assert result["forwarded_share"] == 1.0
    kinds = {line.split("SIGKILL ", 1)[1].split("-")[0] for line in result["faults"] if "SIGKILL " in line
             and "broker" not in line}
    assert kinds == {"streams", "cases", "escalation", "fanout", "dispatch", "webhooks", "indicators"}
    assert any("SIGKILL broker" in f for f in result["faults"]) and any("PostgreSQL stopped" in f
                                                                       for f in result["faults"])
    assert result["brokers"] == 3 and result["topic_replication"] == 3
    assert result["incidents_topic_config"]["min.insync.replicas"] == "2"
    assert result["incidents_topic_config"]["unclean.leader.election.enable"] == "false"
    assert all(n >= 1 for name, n in result["restarts"].items() if name.endswith("-1")), result["restarts"]
