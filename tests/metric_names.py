"""Every sample name ChildSafe can expose (the dashboard and rule tests check their queries against it)."""

from __future__ import annotations

from ops.metrics import COLLECTED, catalogue


def exposed_names() -> set[str]:
    """Every sample name ChildSafe can expose, by type (Counter → _total, Histogram → _bucket/_sum/_count)."""
    names = set()
    for name, metric in catalogue().items():
        kind = metric._type
        if kind == "counter":
            names |= {f"{name}_total", f"{name}_created"}
        elif kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
        else:
            names.add(name)
    for name, kind in COLLECTED.items():
        names.add(f"{name}_total" if kind == "counter" else name)
    return names
