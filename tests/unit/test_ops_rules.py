"""Alert rules: `promtool check rules` and `promtool test rules` (unit tests for every rule), a runbook per
rule, and only declared metrics in the expressions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.metric_names import exposed_names

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops/prometheus/rules.yml"
TESTS = sorted((ROOT / "ops/prometheus/tests").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: run `make system-deps`")


def alerts() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]


@needs_promtool
def test_promtool_check_rules_passes():
    out = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in out.stdout


@needs_promtool
def test_promtool_unit_tests_pass():
    out = subprocess.run([PROMTOOL, "test", "rules", *map(str, TESTS)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT / "ops/prometheus/tests")
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_rule_is_unit_tested_firing_and_quiet():
    fired, quiet = set(), set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {a["alert"] for a in alerts()}
    assert len(names) >= 7
    assert names <= fired, f"rules never shown firing: {names - fired}"
    assert names <= quiet, f"rules never shown quiet: {names - quiet}"


def test_every_rule_links_a_runbook_that_says_what_how_to_check_and_fix():
    for rule in alerts():
        url = rule["annotations"]["runbook_url"]
        assert url == f"docs/runbooks/{rule['alert']}.md"
        text = (ROOT / url).read_text()
        for section in ("**What it means.**", "**How to check.**", "**How to fix.**"):
            assert section in text, f"{url} lacks {section}"
        assert rule["labels"]["severity"] in {"critical", "warning"}


def test_rules_use_only_declared_metrics():
    declared = exposed_names() | {"up"}
    used = {m for rule in alerts() for m in re.findall(r"\b(childsafe_[a-z0-9_]+|up)\b", rule["expr"])}
    assert used <= declared, sorted(used - declared)
