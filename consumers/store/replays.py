"""Dead letters already replayed, keyed by their original position: a second replay skips them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class DeadLetterReplay(Base):
    """One re-sent dead letter: where it first was, which event it carried, where it went again."""

    __tablename__ = "deadletter_replays"

    source_topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    source_partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(128))
    replayed_partition: Mapped[int] = mapped_column(Integer)
    replayed_offset: Mapped[int] = mapped_column(BigInteger)
    replayed_by: Mapped[str] = mapped_column(String(100))
    replayed_at: Mapped[datetime] = mapped_column(UtcDateTime)
