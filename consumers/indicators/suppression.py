"""Small-cell suppression: no figure shown may be about fewer than 5 children, nor be derivable from the others.

Primary: a cell about 1 to 4 children is hidden (a cell about none is shown: it singles nobody out).
Secondary: in every group of cells shown beside their total (a row of categories and its area total, a column of
areas and their parent), what the hidden cells add up to can be worked out by subtraction; so a group must hide
either nothing, or at least two cells about at least 5 children together. Otherwise the smallest shown non-zero
cell is hidden too (or, if there is none, the total). Repeated until no group changes.
"""

from __future__ import annotations

from dataclasses import dataclass

THRESHOLD = 5


@dataclass
class Cell:
    """A figure and the number of children it is about (None: a figure about no child, e.g. schools or SMS)."""

    value: float | int | None
    children: int | None = None
    hidden: bool = False

    @property
    def shown(self) -> float | int | None:
        return None if self.hidden else self.value


@dataclass(frozen=True)
class Group:
    members: tuple[Cell, ...]
    total: Cell


def primary(cells) -> None:
    for cell in cells:
        if cell.children is not None and 0 < cell.children < THRESHOLD:
            cell.hidden = True


def secondary(groups: list[Group]) -> None:
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [m for m in group.members if m.hidden]
            if group.total.hidden or not hidden or (len(hidden) >= 2 and sum(m.children or 0 for m in hidden) >= THRESHOLD):
                continue
            candidates = sorted((m for m in group.members if not m.hidden and (m.children or 0) > 0),
                                key=lambda m: m.children or 0)
            if candidates:
                candidates[0].hidden = True
            else:
                group.total.hidden = True
            changed = True


def suppress(cells, groups: list[Group]) -> None:
    primary(cells)
    secondary(groups)
