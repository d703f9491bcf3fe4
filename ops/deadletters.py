"""Dead letters for operators: list, show, and replay what now passes its source topic's contract.

Originals are sealed (AES-GCM, contracts/sealed.py) on the topic and opened here with the field keyring.
``show`` prints them masked (names and free text redacted, numbers and IDs masked) unless the operator
proves an operator role with a desk token and asks to reveal; every show is audited either way.

Replay is idempotent twice over: each replayed dead letter is recorded by its original position
(source topic, partition, offset), so a second replay skips it; and the original event keeps its id,
so the triage dedup table routes it once even if a crash made replay send it again. Every re-send
leaves an AuditRecorded on the audit topic.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consumers.store.db import transaction
from consumers.store.replays import DeadLetterReplay
from contracts.audit import AuditRecorded
from contracts.clock import Clock
from contracts.codec import decode
from contracts.deadletter import DeadLettered
from contracts.errors import ContractError
from contracts.events import AuditRecordedEvent, DeadLetteredEvent
from contracts.sealed import Keyring, SealError
from contracts.topics import AUDIT, CATALOGUE, DEADLETTER, TopicSpec
from ops.errors import ChildSafeOpsError
from ops.logs import masked

log = logging.getLogger(__name__)
ACTOR = "ops.deadletter-replay"


@dataclass(frozen=True)
class Letter:
    """One record of the dead-letter topic: its own position, and the rejected message it keeps."""

    partition: int
    offset: int
    record: DeadLettered

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    def original(self, keyring: Keyring | None) -> tuple[bytes | None, bytes]:
        key = base64.b64decode(self.record.key_b64) if self.record.key_b64 is not None else None
        return key, self.record.original(keyring)

    def summary(self) -> dict:
        r = self.record
        return {"position": self.position, "source": f"{r.source_topic}[{r.source_partition}]@{r.source_offset}",
                "rejected_by": r.rejected_by, "rejected_at": r.rejected_at.isoformat(),
                "fields": [e.field for e in r.errors], "reason": r.reason[:200]}


def read_letters(bootstrap: str, namespace: str) -> list[Letter]:
    """Every dead letter from the beginning of the topic up to its current end."""
    topic = DEADLETTER.name(namespace)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="childsafe-deadletter")
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not tps:
            raise ChildSafeOpsError(f"topic {topic} does not exist: run `childsafe topics apply` (namespace {namespace!r}?)")
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        letters: list[Letter] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                for r in records:
                    try:
                        letters.append(Letter(r.partition, r.offset, decode(r.value, DeadLetteredEvent).data))
                    except ContractError as exc:
                        log.warning("unreadable dead letter", extra={"partition": r.partition, "offset": r.offset,
                                                                     "fields": [e.field for e in exc.errors]})
        return sorted(letters, key=lambda x: (x.record.rejected_at, x.partition, x.offset))
    finally:
        consumer.close()


def source_spec(source_topic: str, namespace: str) -> TopicSpec | None:
    return next((spec for spec in CATALOGUE if spec.name(namespace) == source_topic), None)


def show(letter: Letter, keyring: Keyring | None, reveal: bool = False) -> dict:
    """One dead letter with its original message: masked, unless ``reveal`` (the caller checked the role)."""
    key, value = letter.original(keyring)
    try:
        original = json.loads(value)
    except ValueError:
        original = value.decode("utf-8", "replace")
    return {**letter.record.model_dump(mode="json", exclude={"value_b64", "key_b64", "value_sealed"}),
            "position": letter.position, "key": key.decode("utf-8", "replace") if key is not None else None,
            "original": original if reveal else masked(original), "revealed": reveal}


def audit_show(bootstrap: str, namespace: str, clock: Clock, operator: str, letter: Letter, outcome: str) -> None:
    """Who looked at which dead letter, and whether its original was revealed (audit topic, acks=all)."""
    now = clock.now()
    record = AuditRecorded(actor=operator[:100] or "operator", action="deadletter_shown", subject=letter.position,
                           outcome=outcome, reason="childsafe deadletter show", at=now,
                           details={"source": letter.summary()["source"], "rejected_by": letter.record.rejected_by})
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             client_id="childsafe-deadletter")
    try:
        producer.send(AUDIT.name(namespace), key=letter.position.encode(),
                      value=AuditRecordedEvent.new(record, source="/childsafe/ops/deadletter", subject=letter.position,
                                                   time=now).to_bytes()).get(timeout=30)
    finally:
        producer.close()


class DeadLetterReplayer:
    def __init__(self, bootstrap: str, namespace: str, factory: sessionmaker[Session], clock: Clock,
                 operator: str = "operator", keyring: Keyring | None = None):
        self.bootstrap, self.namespace, self.factory, self.clock = bootstrap, namespace, factory, clock
        self.operator, self.keyring = operator, keyring

    def replay(self, letters: list[Letter], dry_run: bool = False) -> list[dict]:
        """Re-validate each letter's original bytes; re-send the ones that pass and were never replayed."""
        with self.factory() as session:
            done = {(r.source_topic, r.source_partition, r.source_offset)
                    for r in session.execute(select(DeadLetterReplay)).scalars()}
        producer = None if dry_run else KafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                                      enable_idempotence=True, client_id="childsafe-deadletter")
        results = []
        try:
            for letter in letters:
                results.append(self._one(letter, done, producer))
        finally:
            if producer is not None:
                producer.close()
        return results

    def _one(self, letter: Letter, done: set, producer: KafkaProducer | None) -> dict:
        r = letter.record
        out = {"position": letter.position, "source": f"{r.source_topic}[{r.source_partition}]@{r.source_offset}"}
        if (r.source_topic, r.source_partition, r.source_offset) in done:
            return {**out, "result": "already_replayed"}
        spec = source_spec(r.source_topic, self.namespace)
        if spec is None:
            return {**out, "result": "unknown_source_topic"}
        if r.value_truncated:  # only the first bytes were kept: the original cannot be rebuilt
            return {**out, "result": "truncated_not_replayable", "value_bytes": r.value_bytes}
        try:
            key, value = letter.original(self.keyring)
        except SealError as exc:
            return {**out, "result": "cannot_open", "error": str(exc)}
        try:
            event = decode(value, spec)
        except ContractError as exc:
            return {**out, "result": "still_invalid", "errors": [e.as_dict() for e in exc.errors]}
        if producer is None:
            return {**out, "result": "would_replay", "event_id": event.id}
        meta = producer.send(r.source_topic, key=key, value=value).get(timeout=30)
        now = self.clock.now()
        audit = AuditRecorded(actor=ACTOR, action="deadletter_replayed", subject=event.id, outcome="replayed",
                              reason=f"passes {spec.suffix} now; first rejected by {r.rejected_by}",
                              at=now, details={"operator": self.operator, "deadletter": letter.position,
                                               "source": out["source"],
                                               "replayed_to": f"{meta.topic}[{meta.partition}]@{meta.offset}"})
        audit_id = f"replay:{r.source_topic}:{r.source_partition}:{r.source_offset}"
        producer.send(AUDIT.name(self.namespace), key=event.id.encode(),
                      value=AuditRecordedEvent.new(audit, source="/childsafe/ops/deadletter", subject=event.id,
                                                   id=audit_id, correlationid=event.correlationid,
                                                   time=now).to_bytes()).get(timeout=30)
        with transaction(self.factory) as session:
            session.add(DeadLetterReplay(source_topic=r.source_topic, source_partition=r.source_partition,
                                         source_offset=r.source_offset, event_id=event.id,
                                         replayed_partition=meta.partition, replayed_offset=meta.offset,
                                         replayed_by=self.operator[:100], replayed_at=now))
        done.add((r.source_topic, r.source_partition, r.source_offset))
        log.info("dead letter replayed", extra={"correlationid": event.correlationid, "event_id": event.id,
                                                "deadletter": letter.position, "topic": spec.suffix})
        return {**out, "result": "replayed", "event_id": event.id,
                "replayed_to": f"{meta.topic}[{meta.partition}]@{meta.offset}"}

