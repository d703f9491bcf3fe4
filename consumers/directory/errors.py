"""Directory errors; each says what the operator should fix."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.errors import ChildSafeError


@dataclass(frozen=True)
class RowProblem:
    """One bad value in one row of one file."""

    file: str
    line: int
    field: str
    reason: str
    got: str | None = None

    def __str__(self) -> str:
        tail = f" (got {self.got!r})" if self.got is not None else ""
        return f"{self.file}:{self.line}: {self.field}: {self.reason}{tail}"


class DirectoryImportError(ChildSafeError):
    """The CSV files have bad rows and nothing was imported: fix the rows listed, then import again."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} bad row value(s), nothing imported:\n{shown}{more}")


class UnknownDirectoryFile(ChildSafeError):
    """A file name is not one the importer knows: rename it to one of the listed names."""
