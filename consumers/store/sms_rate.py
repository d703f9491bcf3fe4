"""The provider's send schedule per sending number, shared by every dispatcher (``consumers/sms/rate_slots.py``).

``next_at`` is the epoch second from which the next message may go (a GCRA "theoretical arrival time").
"""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.store.db import Base


class SmsRateSlot(Base):
    __tablename__ = "sms_rate_slots"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)
