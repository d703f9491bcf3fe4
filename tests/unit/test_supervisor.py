"""`childsafe up`'s supervisor with real child processes: a dead worker is restarted with growing backoff, each
child writes its own log, SIGTERM stops them all; the systemd units name the same worker kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops.kafka_local import free_port
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.supervisor import KINDS, Supervised, Supervisor, parse_counts, plan
from tests.wait_for import wait_for

ROOT = Path(__file__).resolve().parents[2]


class StepClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.realtime
def test_a_worker_that_keeps_dying_is_restarted_with_doubling_backoff_into_its_own_log(tmp_path):
    clock = StepClock()
    dying = ChildProcess(["kafka", "status"], {"CHILDSAFE_KAFKA_PORT": str(free_port())}, tmp_path / "dying-1.log")
    sup = Supervisor([Supervised("dying-1", dying)], base_s=2.0, cap_s=8.0, stable_s=60.0, clock=clock).start()
    delays = []
    try:
        for _ in range(4):
            wait_for(lambda: not dying.running(), timeout=60, every=0.1)
            assert sup.check() == []  # noticed: restart scheduled, not yet due
            child = sup.child("dying-1")
            delays.append(child.next_start - clock.now)
            clock.now = child.next_start
            assert sup.check() == ["dying-1"]
        wait_for(lambda: not dying.running(), timeout=60, every=0.1)  # the fifth run writes its answer too
    finally:
        sup.stop()
    assert delays == [2.0, 4.0, 8.0, 8.0]
    assert sup.child("dying-1").restarts == 4
    assert (tmp_path / "dying-1.log").read_text().count('"answers": false') == 5  # every run appends to one log


@pytest.mark.realtime
def test_sigterm_stops_every_child_cleanly(tmp_path):
    children = [Supervised(f"sandbox-{i}", ChildProcess(["sms-sandbox", "--port", str(free_port())], {},
                                                        tmp_path / f"sandbox-{i}.log")) for i in (1, 2)]
    sup = Supervisor(children).start()
    wait_for(lambda: all(c.process.running() for c in children), timeout=60, every=0.1)
    sup.stop()
    assert [c.process.proc.returncode for c in children] != [None, None]
    assert all(not c.process.running() for c in children)


def test_instances_of_a_kind_get_their_own_ports_and_logs(tmp_path):
    settings = Settings(run_dir=tmp_path, database_url="sqlite:///x.db")
    children = plan(settings, parse_counts("dispatch=2,streams=2,desk=0"), tmp_path / "logs")
    names = [c.name for c in children]
    assert "desk-1" not in names and names.count("dispatch-2") == 1
    d1, d2 = (next(c for c in children if c.name == n).process for n in ("dispatch-1", "dispatch-2"))
    assert "CHILDSAFE_SMS_DISPATCH_METRICS_PORT" not in d1.env or d1.env["CHILDSAFE_SMS_DISPATCH_METRICS_PORT"] != \
        d2.env["CHILDSAFE_SMS_DISPATCH_METRICS_PORT"]
    assert d2.env["CHILDSAFE_SMS_DISPATCH_METRICS_PORT"] == str(settings.sms_dispatch_metrics_port + 1)
    s2 = next(c for c in children if c.name == "streams-2").process
    assert s2.env["CHILDSAFE_WEB_PORT"] == str(settings.web_port + 1)
    assert s2.env["CHILDSAFE_DATABASE_URL"] == "sqlite:///x.db", "every instance uses the one database"
    assert {c.process.log_path.name for c in children} == {f"{n}.log" for n in names}


@pytest.mark.parametrize("spec,field", [("dispatcher=2", "unknown worker kind 'dispatcher'"),
                                        ("dispatch=two", "count from 0 to 16"), ("dispatch=99", "count from 0 to 16"),
                                        ("dispatch=\u200b2", "count from 0 to 16")])
def test_a_bad_workers_option_is_refused_naming_the_kind(spec, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        parse_counts(spec)


def test_the_systemd_instance_script_knows_every_supervised_kind_with_the_same_command():
    script = (ROOT / "ops/deploy/childsafe-worker").read_text()
    cases = dict(re.findall(r'^\s+(\w+)\)\s+exec "\$CHILDSAFE" ([\w ]+?) ;;', script, re.M))
    assert cases == {kind: " ".join(args) for kind, (args, _) in KINDS.items()}
    unit = (ROOT / "ops/deploy/childsafe@.service").read_text()
    assert "Restart=always" in unit and "KillSignal=SIGTERM" in unit
