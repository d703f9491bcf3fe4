"""Imports every model module so Base.metadata is complete (Alembic and tests read it)."""

from consumers.cases import audit, models, tokens, tracking, vault  # noqa: F401,E402  (case workflow, branch `cases`)
from consumers.store import (  # noqa: F401
    core,  # noqa: F401
    directory,
    replays,  # noqa: F401,E402  (dead letters replayed, branch `ops`)
    sms_cancellations,  # noqa: F401,E402  (SMS cancellations, branch `cancellations`)
    sms_ledger,
    sms_rate,  # noqa: F401,E402  (shared provider rate per sending number, branch `sms`)
)
