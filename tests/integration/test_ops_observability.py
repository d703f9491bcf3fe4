"""Operations on the real broker with real processes: Prometheus (Debian's binary) scrapes the streams worker,
the case consumer and the exporter and answers for a real metric; one report is followed through the JSON logs
of the streams worker and the case consumer by its correlation id, and no log line holds its reporter's
phone number, a name or the report text."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from ops.kafka_local import free_port
from ops.processes import ChildProcess
from ops.topics_admin import apply_topics
from streams.triage import case_id_for
from tests.cases_fixtures import DISTRICT, SCHOOL, seed_organisations
from tests.factories import incident
from tests.integration.helpers import StreamsWorker

RULES_FILE = Path(__file__).resolve().parents[2] / "ops/prometheus/rules.yml"

pytestmark = pytest.mark.integration
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PHONE = "+12025550142"
NAMES = ("测试报告人甲", "测试学生乙", "Test Guardian 0001")
DESCRIPTION = "测试学生乙在宿舍受伤，疑似被殴打（测试数据）。"


class Stack:
    """Streams worker, case consumer and exporter as `childsafe` subprocesses, and a Prometheus scraping them."""

    def __init__(self, bootstrap: str, run_dir: Path):
        self.namespace = f"obs{uuid.uuid4().hex[:8]}"
        self.run_dir = run_dir
        db_url = f"sqlite:///{run_dir / 'childsafe.db'}"
        upgrade(db_url)
        engine = make_engine(db_url)
        with transaction(session_factory(engine)) as session:
            seed_organisations(session)
        engine.dispose()
        apply_topics(bootstrap, self.namespace)
        self.case_port, self.exporter_port, self.prom_port = free_port(), free_port(), free_port()
        env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": self.namespace,
               "CHILDSAFE_RUN_DIR": str(run_dir), "CHILDSAFE_DATABASE_URL": db_url,
               "CHILDSAFE_CASE_METRICS_PORT": str(self.case_port), "CHILDSAFE_EXPORTER_PORT": str(self.exporter_port)}
        self.worker = StreamsWorker(bootstrap, self.namespace, run_dir)
        self.cases = ChildProcess(["cases", "consume"], env, run_dir / "cases.log")
        self.exporter = ChildProcess(["exporter"], env, run_dir / "exporter.log")
        self.prometheus = None

    def start(self) -> Stack:
        for proc in (self.worker, self.cases, self.exporter):
            proc.start()
        self.worker.wait_http()
        self.cases.wait_http(f"http://127.0.0.1:{self.case_port}/metrics")
        self.exporter.wait_http(f"http://127.0.0.1:{self.exporter_port}/metrics")
        jobs = {"childsafe-streams": self.worker.metrics_port, "childsafe-cases": self.case_port,
                "childsafe-exporter": self.exporter_port}
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [str(RULES_FILE)],
                  "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                                     for job, port in jobs.items()]}
        (self.run_dir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.prometheus = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.run_dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.run_dir / 'prometheus-data'}",
             f"--web.listen-address=127.0.0.1:{self.prom_port}"],
            stdout=open(self.run_dir / "prometheus.log", "wb"), stderr=subprocess.STDOUT)
        return self

    def query(self, promql: str) -> list[dict]:
        resp = httpx.get(f"http://127.0.0.1:{self.prom_port}/api/v1/query", params={"query": promql}, timeout=5)
        resp.raise_for_status()
        return resp.json()["data"]["result"]

    def wait_query(self, promql: str, ok, timeout: float = 60) -> list[dict]:
        deadline, result = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            try:
                result = self.query(promql)
                if ok(result):
                    return result
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{promql} → {result}\n{(self.run_dir / 'prometheus.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.terminate()
            self.prometheus.wait(20)
        for proc in (self.exporter, self.cases, self.worker):
            proc.stop()

    def log_lines(self) -> dict[str, list[str]]:
        return {name: p.log_path.read_text(errors="replace").splitlines()
                for name, p in (("streams", self.worker), ("cases", self.cases))}


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, tmp_path_factory):
    if not Path(PROMETHEUS).exists():
        pytest.skip("prometheus missing: run `make system-deps`")
    s = Stack(kafka_bootstrap, tmp_path_factory.mktemp("obs")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mandatory_report(stack):
    """One report with a reporter's name and phone, routed to a case: what the tests below look for."""
    body = incident(school_id=SCHOOL, district_code=DISTRICT, category="abuse_harm", severity="serious",
                    child_in_danger_now=True, mandatory_situations=[4], description=DESCRIPTION,
                    reporter={"role": "teacher", "unit_id": SCHOOL, "name": NAMES[0], "phone": PHONE,
                              "confidential": True})
    resp = stack.worker.post("/v1/incidents", body, headers={"Idempotency-Key": "obs-report-1"})
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def test_prometheus_scrapes_the_workers_and_answers_with_a_real_metric(stack, mandatory_report):
    up = stack.wait_query('up{job=~"childsafe-.*"}', lambda r: len(r) == 3 and all(x["value"][1] == "1" for x in r))
    assert {x["metric"]["job"] for x in up} == {"childsafe-streams", "childsafe-cases", "childsafe-exporter"}
    [routed] = stack.wait_query('childsafe_events_consumed_total{job="childsafe-streams", outcome="routed"}',
                                lambda r: r and float(r[0]["value"][1]) >= 1)
    assert routed["metric"]["topic"] == "incidents.reported.v1"
    stack.wait_query('childsafe_intake_requests_total{route="/v1/incidents", status="202"}',
                     lambda r: r and float(r[0]["value"][1]) >= 1)
    stack.wait_query('sum(childsafe_case_commands_total{job="childsafe-cases", outcome="opened"})',
                     lambda r: r and float(r[0]["value"][1]) >= 1)
    stack.wait_query('childsafe_report_to_case_seconds_count{job="childsafe-cases"}', lambda r: r and float(r[0]["value"][1]) >= 1)
    stack.wait_query('childsafe_cases_open{job="childsafe-exporter"}', lambda r: r and float(r[0]["value"][1]) >= 1)
    lag = stack.wait_query(f'childsafe_consumer_lag_messages{{group="{stack.namespace}.cases"}}', lambda r: r)
    assert {x["metric"]["topic"] for x in lag} == {"cases.commands.v1"}
    rules = httpx.get(f"http://127.0.0.1:{stack.prom_port}/api/v1/rules", timeout=5).json()
    on_disk = yaml.safe_load(RULES_FILE.read_text())["groups"]
    loaded = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert loaded == {r["alert"] for g in on_disk for r in g["rules"]} and len(loaded) >= 7  # every rule loads


def _json_lines(lines: list[str]) -> list[dict]:
    out = []
    for line in lines:
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_one_report_is_followed_through_the_logs_by_correlation_id_without_phone_or_names(stack, mandatory_report):
    case_id = case_id_for(mandatory_report)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = stack.log_lines()
        if any("case opened" in line and mandatory_report in line for line in logs["cases"]):
            break
        time.sleep(0.5)
    logs = stack.log_lines()
    followed = {name: [e for e in _json_lines(lines) if e.get("correlationid") == mandatory_report]
                for name, lines in logs.items()}
    assert [e["event"] for e in followed["streams"]] == ["report accepted", "report routed"], logs["streams"][-20:]
    assert [e["event"] for e in followed["cases"]] == ["case opened"], logs["cases"][-20:]
    assert followed["cases"][0]["case_id"] == case_id and followed["cases"][0]["level"] == "info"
    for name, lines in logs.items():
        text = "\n".join(lines)
        assert PHONE not in text and PHONE[1:] not in text and "2025550142" not in text, name
        for secret in (*NAMES, DESCRIPTION[:8]):
            assert secret not in text, f"{secret!r} in the {name} log"
