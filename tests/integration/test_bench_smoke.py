"""Every benchmark in ops/bench/ runs in `make test` in a smoke profile (tiny sizes, figures not asserted), so
none can rot; a non-zero exit fails. The full runs are `make bench`. A new benchmark without a profile fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE = {  # script → tiny arguments; {bootstrap} is the test session's broker, {tmp} a fresh folder
    "cap_geo.py": ["--schools", "500", "--polygons", "5", "--circles", "5", "--rounds", "1", "--many-circles", "20"],
    "cases_open.py": ["--n", "20", "--batch", "10", "--bootstrap", "{bootstrap}"],
    "console_delivery.py": ["--db-url", "sqlite:///{tmp}/delivery.db", "--other-rows", "500", "--thread-rows", "50"],
    "cpu_hog.py": ["--hogs", "1", "--repeat", "1", "--", sys.executable, "-c", "pass"],
    # the fault suite's own short profile is tests/integration/test_fault_suite.py (`make faults-short`); here it
    # must at least import and parse its arguments
    "faults.py": ["--help"],
    # PostgreSQL: CHILDSAFE_TEST_POSTGRES_URL when set, else its own throwaway server; figures not asserted here
    "indicators.py": ["--registrations", "5000", "--incidents", "500", "--rounds", "1", "--limit-s", "60"],
    "recall_preview.py": ["--registrations", "500"],
    "recall_match.py": ["--registrations", "2000", "--recalls", "5", "--partitions", "2"],
    "sandbox_raw_sdk.py": ["--messages", "20", "--threads", "1", "2"],
    "sms_dispatch_bench.py": ["--messages", "20", "--concurrency", "2", "--batch", "10"],
    "sms_fanout_bench.py": ["--guardians", "50"],
    "triage_throughput.py": ["--reports", "200", "--rounds", "1", "--bootstrap", "{bootstrap}"],
}


def test_every_benchmark_has_a_smoke_profile():
    assert sorted(p.name for p in (ROOT / "ops" / "bench").glob("*.py") if p.name != "__init__.py") == sorted(SMOKE)


@pytest.mark.integration
@pytest.mark.timeout(600)
@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_in_its_smoke_profile(script, kafka_bootstrap, tmp_path):
    args = [a.format(bootstrap=kafka_bootstrap, tmp=tmp_path) for a in SMOKE[script]]
    env = {**os.environ, "CHILDSAFE_BENCH_BOOTSTRAP": kafka_bootstrap, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "ops" / "bench" / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
