"""The consumer's memory: which Kafka positions are done, and what must still be published (the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class ProcessedMessage(Base):
    """One consumed position; written in the same transaction as its effect, so a replay is skipped."""

    __tablename__ = "case_processed_messages"

    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # opened | duplicate | deadlettered
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """A message to publish, written with the change that caused it; its id is deterministic."""

    __tablename__ = "case_outbox"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(16))  # duty | escalation | deadletter
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
