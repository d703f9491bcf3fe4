"""Recall agents: holdings into a partitioned table, each recall broadcast to every holdings partition.

Why broadcast: a recall must be checked against ALL registrations, and it names several identifiers
(barcode, brand+model, name). Re-keying holdings by each identifier would need a repartition per
identifier, hot keys for popular barcodes and a gather step; recalls are rare (a few a day) and holdings
many (millions), so the rare side travels: the recall agent writes the notice once to every partition of
``recall-probes``, which is co-partitioned with the holdings topic (same partition count, same app, so
Faust assigns partition p of both to one worker). Each partition matches its own holders, and because
holdings are keyed by holder, each holder is graded and told once.
"""

from __future__ import annotations

import logging

import faust

from contracts.codec import decode
from contracts.events import ProductHoldingsEvent, RecallPublishedEvent
from contracts.recall import RecallAction
from contracts.recall_match import Grade, RecallKeys
from contracts.topics import RECALL_PROBES, RECALLS, REGISTRATIONS
from streams.agent_loop import each_message, table_put
from streams.alerting_config import AlertingConfig
from streams.faust_plumbing import RawBytesSchema
from streams.output import Output
from streams.recalls.disclosure import disclosure_record, register_disclosure
from streams.recalls.holdings import Holding, HoldingsIndex
from streams.recalls.plan import late_tag, plan

log = logging.getLogger("childsafe.streams.recalls")


def _raw() -> RawBytesSchema:
    return RawBytesSchema(key_serializer="raw", value_serializer="raw")


def register_recalls(app: faust.App, cfg, writer, clock, conf: AlertingConfig) -> HoldingsIndex:
    ns = cfg.namespace
    parts = REGISTRATIONS.partitions
    holdings_topic = app.topic(REGISTRATIONS.name(ns), schema=_raw(), partitions=parts)
    recalls_topic = app.topic(RECALLS.name(ns), schema=_raw(), partitions=RECALLS.partitions)
    probes_name = RECALL_PROBES.name(ns)
    probes = app.topic(probes_name, schema=_raw(), partitions=parts, internal=True, acks=True)
    holdings = app.Table("recall-holdings", default=None, partitions=parts)
    issued = app.Table("recall-issued", default=None, partitions=parts)
    # recalls in force per partition (the notice's JSON), and the holders each has told: a holder whose
    # holdings arrive after the recall is matched then (see ``late_matches``), and nobody is told twice
    active = app.Table("recall-active", default=None, partitions=parts)
    told = app.Table("recall-told", default=None, partitions=parts)
    disclosures = register_disclosure(app, ns, writer, clock, cfg.deadletter_limit)
    index = HoldingsIndex()

    @holdings.on_recover
    async def rebuild_index() -> None:
        index.rebuild(dict(holdings.data.items()))
        log.info("holdings index rebuilt: %d holders", len(index))

    @app.agent(holdings_topic, name="recall-holdings")
    async def take_holdings(stream):
        async def handle(event) -> list[Output]:
            msg = event.message
            key = (msg.key or b"").decode(errors="replace")
            holding = None
            if msg.value is not None:  # else a tombstone: the holder is gone
                h = decode(msg.value, REGISTRATIONS)
                assert isinstance(h, ProductHoldingsEvent)
                key = h.data.holder_key
                holding = Holding.of(msg.partition, h.data)
            index.put(key, holding)
            outputs = [table_put(holdings, msg.partition, key, holding.as_value() if holding and holding.products
                                 else None)]
            if holding is not None and holding.products:
                outputs += late_matches(msg.partition, holding)
            return outputs

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.recall-holdings",
                           limit=cfg.deadletter_limit, batch=cfg.batch, within=cfg.batch_within_s)

    def late_matches(partition: int, holding: Holding) -> list[Output]:
        """The recalls already in force on this partition, matched against one holder that just arrived."""
        outputs = []
        for state_key, raw in sorted(active.data.items()):
            if not state_key.endswith(f"@{partition}"):
                continue
            told_key = f"{state_key}:{holding.key}"
            recall = decode(raw.encode(), RecallPublishedEvent)
            if told.data.get(told_key) == recall.id:  # this notice told this holder already
                continue
            mine = [m for m in index.match(partition, RecallKeys.of(recall.data))
                    if (m.holder_kind, m.holder_id) == (holding.holder_kind, holding.holder_id)]
            if not any(m.grade >= Grade.STRONG for m in mine):
                continue
            outcome = plan(recall, partition, mine, [], clock.now(), conf.holders_per_alert, tag=late_tag(holding.key))
            before = issued.get(state_key) or []
            outputs += outcome.outputs + [table_put(told, partition, told_key, recall.id),
                                          table_put(issued, partition, state_key,
                                                    sorted(set(before) | set(outcome.alert_ids)))]
            log.info("recall %s matched a holder whose holdings arrived after it", recall.data.recall_number)
        return outputs

    @app.agent(recalls_topic, name="recalls")
    async def broadcast_recalls(stream):
        async def handle(event) -> list[Output]:
            raw = event.message.value or b""
            recall = decode(raw, RECALLS)
            key = recall.data.recall_number.encode()
            outputs = [Output(probes_name, key, raw, partition=p) for p in range(parts)]
            outputs.append(disclosure_record(disclosures, recall, clock.now()))
            return outputs

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.recalls",
                           limit=cfg.deadletter_limit)

    @app.agent(probes, name="recall-match")
    async def match_recall(stream):
        async def handle(event) -> list[Output]:
            recall = decode(event.message.value or b"", RecallPublishedEvent)
            partition = event.message.partition
            state_key = f"{recall.data.recall_number}@{partition}"
            before = issued.get(state_key) or []
            keys = RecallKeys.of(recall.data)
            withdrawn = recall.data.action is RecallAction.WITHDRAWN
            matches = [] if withdrawn else [  # a redelivered notice does not tell again whom it told (maybe late)
                m for m in index.match(partition, keys)
                if told.get(f"{state_key}:{m.holder_kind}:{m.holder_id}") != recall.id]
            outcome = plan(recall, partition, matches, before, clock.now(), conf.holders_per_alert)
            after = None if withdrawn else sorted(set(outcome.alert_ids) | (
                set(before) if recall.data.action is RecallAction.PUBLISHED else set()))
            alerted = [table_put(told, partition, f"{state_key}:{m.holder_kind}:{m.holder_id}", recall.id)
                       for m in matches if m.grade >= Grade.STRONG]
            in_force = table_put(active, partition, state_key,
                                 None if withdrawn else (event.message.value or b"").decode())
            return outcome.outputs + alerted + [table_put(issued, partition, state_key, after), in_force]

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.recall-match",
                           limit=cfg.deadletter_limit)

    return index

