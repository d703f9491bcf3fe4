"""Imports every model module so Base.metadata is complete (Alembic and tests read it)."""

from consumers.store import core  # noqa: F401
from consumers.cases import audit, models, tokens, tracking, vault  # noqa: F401,E402  (case workflow, branch `cases`)
from consumers.store import directory, sms_ledger  # noqa: F401
from consumers.store import replays  # noqa: F401,E402  (dead letters replayed, branch `ops`)
from consumers.store import sms_cancellations  # noqa: F401,E402  (SMS cancellations, branch `cancellations`)
from consumers.store import sms_rate  # noqa: F401,E402  (shared provider rate per sending number, branch `sms`)
