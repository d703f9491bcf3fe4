"""`childsafe directory import`: load directory CSV files, reporting every bad row by line, field and reason.

Two modes. ``all_or_nothing`` (the default): one bad value anywhere and nothing is written.
``good_rows``: every good row is written and the bad ones are reported; a row that refers to a
rejected or unknown row is itself reported. Either way the write is one transaction, and
importing the same files again updates rows in place (keys are the ids in the files).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from consumers.directory.columns import BY_FILE, ID_COLUMN, SPECS, FileSpec
from consumers.directory.errors import DirectoryImportError, RowProblem, UnknownDirectoryFile
from consumers.directory.upsert import upsert
from consumers.store.directory import Child, SchoolClass

ALL_OR_NOTHING = "all-or-nothing"
GOOD_ROWS = "good-rows"


@dataclass
class ImportReport:
    mode: str
    written: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"mode": self.mode, "written": self.written, "rejected_rows": len({(p.file, p.line) for p in self.problems}),
                "problems": [str(p) for p in self.problems]}


@dataclass
class _Parsed:
    spec: FileSpec
    rows: dict[int, dict] = field(default_factory=dict)  # line → values


def collect_files(paths: Iterable[Path]) -> dict[str, Path]:
    """Directories expand to the known CSV files inside them; unknown file names are refused."""
    found: dict[str, Path] = {}
    for path in paths:
        candidates = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        for file in candidates:
            if file.name not in BY_FILE:
                raise UnknownDirectoryFile(f"{file}: unknown file name; expected one of {', '.join(BY_FILE)}")
            found[file.name] = file
    return found


def import_directory(engine: Engine, paths: Iterable[Path], mode: str = ALL_OR_NOTHING) -> ImportReport:
    files = collect_files(paths)
    report = ImportReport(mode=mode)
    parsed = {name: _parse(BY_FILE[name], files[name], report.problems) for name in (s.file for s in SPECS)
              if name in files}
    with engine.connect() as conn:
        _check_references(conn, parsed, report.problems)
    if report.problems and mode == ALL_OR_NOTHING:
        raise DirectoryImportError(report.problems)
    bad = {(p.file, p.line) for p in report.problems}
    with engine.begin() as conn:
        for name, item in parsed.items():
            rows = [row for line, row in item.rows.items() if (name, line) not in bad]
            report.written[name] = upsert(conn, item.spec.table, rows, item.spec.key)
    return report


def _parse(spec: FileSpec, path: Path, problems: list[RowProblem]) -> _Parsed:
    out = _Parsed(spec)
    keys: dict[tuple, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        wanted = {c.name for c in spec.columns if c.required}
        missing = wanted - set(reader.fieldnames or [])
        if missing:
            problems.append(RowProblem(spec.file, 1, ",".join(sorted(missing)), "missing column(s) in the header"))
            return out
        unknown = set(reader.fieldnames or []) - {c.name for c in spec.columns}
        if unknown:
            problems.append(RowProblem(spec.file, 1, ",".join(sorted(unknown)), "unknown column(s) in the header"))
            return out
        for raw in reader:
            line = reader.line_num
            row, ok = dict(spec.defaults), True
            for column in spec.columns:
                value = (raw.get(column.name) or "").strip()
                if not value:
                    if column.required:
                        problems.append(RowProblem(spec.file, line, column.name, "required, but empty"))
                        ok = False
                    elif column.name not in row:
                        row[column.name] = None
                    continue
                try:
                    row[column.name] = column.parse(value)
                except ValueError as exc:
                    problems.append(RowProblem(spec.file, line, column.name, str(exc), value))
                    ok = False
            if not ok:
                continue
            key = tuple(row[k] for k in spec.key)
            if key in keys:
                problems.append(RowProblem(spec.file, line, ",".join(spec.key),
                                           f"duplicate key; first seen on line {keys[key]}", "/".join(map(str, key))))
                continue
            keys[key] = line
            out.rows[line] = row
    return out


def _check_references(conn, parsed: dict[str, _Parsed], problems: list[RowProblem]) -> None:
    """Files are checked in dependency order, so a row pointing at a rejected row is rejected too."""
    good_ids: dict[str, set] = {}
    for name, item in parsed.items():
        bad_lines = {p.line for p in problems if p.file == name}
        for column in item.spec.columns:
            target = "schools.csv" if column.name == "holder_id" else column.ref
            if target is None:
                continue
            wanted = {row[column.name] for line, row in item.rows.items()
                      if row.get(column.name) is not None and line not in bad_lines}
            known = _known(conn, target, wanted, parsed, good_ids)
            if column.name == "holder_id":
                guardians = _known(conn, "guardians.csv", wanted, parsed, good_ids)
            for line, row in item.rows.items():
                value = row.get(column.name)
                if value is None or line in bad_lines:
                    continue
                pool = guardians if column.name == "holder_id" and row["holder_kind"] == "guardian" else known
                if value not in pool:
                    where = "guardians" if pool is not known else target.removesuffix(".csv")
                    problems.append(RowProblem(name, line, column.name, f"no such id in {where} (file or database)", value))
                    bad_lines.add(line)
        _fill_denormalised(conn, name, item, bad_lines, parsed, problems)
        good_ids[name] = {row[item.spec.key[0]] for line, row in item.rows.items() if line not in bad_lines}


def _known(conn, target: str, wanted: set, parsed: dict[str, _Parsed], good_ids: dict[str, set]) -> set:
    in_files = good_ids.get(target, set()) if target in parsed else set()
    if target in parsed and target not in good_ids:  # self-reference (agency supervisor): same file
        in_files = {row[parsed[target].spec.key[0]] for row in parsed[target].rows.values()}
    rest = sorted(wanted - in_files)
    column = ID_COLUMN[target]
    found = set(in_files)
    for start in range(0, len(rest), 500):
        found.update(conn.execute(select(column).where(column.in_(rest[start:start + 500]))).scalars())
    return found


def _fill_denormalised(conn, name: str, item: _Parsed, bad_lines: set[int], parsed: dict[str, _Parsed],
                       problems: list[RowProblem]) -> None:
    """Children must sit in a class of their own school; guardian links copy the child's school and class."""
    if name == "children.csv":
        schools = _lookup(conn, SchoolClass.__table__, "school_id", parsed.get("classes.csv"),
                          {r["class_id"] for r in item.rows.values()})
        for line, row in item.rows.items():
            if line not in bad_lines and schools.get(row["class_id"]) != row["school_id"]:
                problems.append(RowProblem(name, line, "class_id", "class belongs to another school", row["class_id"]))
                bad_lines.add(line)
    if name == "child_guardians.csv":
        wanted = {r["child_id"] for r in item.rows.values()}
        children = _lookup(conn, Child.__table__, ("school_id", "class_id"), parsed.get("children.csv"), wanted)
        for line, row in item.rows.items():
            if line not in bad_lines:
                row["school_id"], row["class_id"] = children[row["child_id"]]


def _lookup(conn, table, columns, in_file: _Parsed | None, ids: set) -> dict:
    cols = columns if isinstance(columns, tuple) else (columns,)
    pick = (lambda row: tuple(row[c] for c in cols)) if len(cols) > 1 else (lambda row: row[cols[0]])
    found = {row["id"]: pick(row) for row in in_file.rows.values()} if in_file else {}
    rest = sorted(ids - found.keys())
    for start in range(0, len(rest), 500):
        stmt = select(table.c.id, *(table.c[c] for c in cols)).where(table.c.id.in_(rest[start:start + 500]))
        for row in conn.execute(stmt):
            found[row[0]] = tuple(row[1:]) if len(cols) > 1 else row[1]
    return found
