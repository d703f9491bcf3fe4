"""Names the streams worker derives from its app id ``<namespace>-streams``: the changelogs of its tables and the
intake's idempotency topic (which the ledger creates itself). The internal topics its agents re-key to are in
the catalogue, `contracts/topics.py` (`STREAMS_INTERNAL`), created with the others."""

from __future__ import annotations


def app_id(namespace: str) -> str:
    return f"{namespace}-streams"


def intake_idempotency(namespace: str) -> str:
    """The intake's idempotency keys (compacted; streams/idempotency.py)."""
    return f"{app_id(namespace)}-intake-idempotency"


def changelog(namespace: str, table: str) -> str:
    """The changelog topic Faust keeps for a table (e.g. ``triage-seen``, ``recall-holdings``)."""
    return f"{app_id(namespace)}-{table}-changelog"
