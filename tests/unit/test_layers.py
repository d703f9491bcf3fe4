"""The README's "may import" table, enforced from the code's actual imports (every module, every import
statement, including imports inside functions and under TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("contracts", "streams", "consumers", "alerts", "console", "ops")
MAY_IMPORT = {  # README "Layout" / docs/ARCHITECTURE.md; a package may always import itself
    "contracts": set(),
    "alerts": {"contracts"},
    "streams": {"contracts"},
    "consumers": {"contracts", "alerts"},
    "console": {"contracts", "alerts", "consumers"},
    "ops": {"contracts", "alerts", "streams", "consumers", "console"},
}


def imported_packages(source: str, module: str) -> set[tuple[str, int]]:
    """(our top-level package, line) for every import in ``source``; relative imports resolve within ``module``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [module.split(".")[0]] if node.level else [node.module or ""]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names = [node.args[0].value]
        else:
            continue
        found |= {(name.split(".")[0], node.lineno) for name in names if name.split(".")[0] in OURS}
    return found


def violations(root: Path) -> list[str]:
    found = []
    for package, allowed in MAY_IMPORT.items():
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for target, line in sorted(imported_packages(path.read_text(encoding="utf-8"), module)):
                if target != package and target not in allowed:
                    found.append(f"{path.relative_to(root)}:{line}: {package} may not import {target}")
    return found


def test_every_package_imports_only_what_the_readme_allows():
    assert violations(ROOT) == []


def test_the_table_is_the_readmes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for package, allowed in MAY_IMPORT.items():
        if package == "console" and "`console/`" not in readme:
            continue  # documented with its package (issue 12)
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{package}/`"))
        cell = row.rstrip(" |").rsplit("|", 1)[1].strip()
        expected = "nothing of ours" if not allowed else "everything" if package == "ops" else ", ".join(
            sorted(allowed, key=OURS.index))
        assert cell == expected, f"README's row for {package}/ says {cell!r}, the test enforces {expected!r}"


@pytest.mark.parametrize("package,source", [
    ("contracts", "from streams.triage import Output"),
    ("streams", "def f():\n    import consumers.cases.consumer"),
    ("alerts", "from ops.settings import Settings"),
    ("consumers", "import streams"),
    ("console", "from ops import bootstrap"),
    ("streams", "x = __import__('alerts.policy')"),
])
def test_a_forbidden_import_is_reported_with_its_file_and_line(tmp_path, package, source):
    (tmp_path / package).mkdir()
    (tmp_path / package / "bad.py").write_text(source, encoding="utf-8")
    [problem] = violations(tmp_path)
    assert problem.startswith(f"{package}/bad.py:") and "may not import" in problem


def test_allowed_and_relative_imports_pass(tmp_path):
    (tmp_path / "consumers").mkdir()
    (tmp_path / "consumers" / "ok.py").write_text(
        "from contracts.clock import Clock\nimport alerts.policy\nfrom . import sibling\nimport os, json\n",
        encoding="utf-8")
    assert violations(tmp_path) == []


def test_no_test_module_imports_another_test_module():
    """Shared test code lives in helper modules (tests/fakes.py, tests/wait_for.py, tests/*_samples.py …)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                      if n.startswith("tests.") and n.rsplit(".", 1)[-1].startswith("test_")]
    assert found == []


def test_agent_tests_poll_instead_of_sleeping():
    """Faust agent tests wait with tests/agents.py (acked, with a deadline), never a fixed asyncio.sleep."""
    sleep = "asyncio" + ".sleep("
    sleepers = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests" / "unit").glob("test_*.py"))
                if sleep in p.read_text(encoding="utf-8")]
    assert sleepers == []
