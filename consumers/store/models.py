"""Imports every model module so Base.metadata is complete (Alembic and tests read it)."""

from consumers.cases import audit, models, tokens, tracking, vault  # noqa: F401  (case workflow, branch `cases`)
from consumers.indicators import models as indicator_models  # noqa: F401  (indicator facts, branch `indicators`)
from consumers.store import (  # noqa: F401
    core,
    directory,
    replays,  # dead letters replayed, branch `ops`
    sms_cancellations,  # SMS cancellations, branch `cancellations`
    sms_ledger,
    sms_rate,  # shared provider rate per sending number, branch `sms`
)
