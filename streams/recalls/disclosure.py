"""The public disclosure feed: published recalls as JSON, newest first, paged (GET /v1/recalls/published).

Every notice is copied to a one-partition internal topic, so one table holds the whole feed; requests to a
worker that does not own it are forwarded by Faust's table routing to the one that does.
"""

from __future__ import annotations

import json
from datetime import datetime

import faust
from aiohttp import web as aioweb

from contracts.dlq import DeadLetterLimit
from contracts.events import RecallPublishedEvent
from contracts.topics import RECALL_DISCLOSURES
from streams.agent_loop import each_message, table_put
from streams.faust_plumbing import RawBytesSchema
from streams.output import Output

FEED_KEY = "feed"
MAX_PAGE_SIZE = 100


def disclosure_record(topic_name: str, recall: RecallPublishedEvent, now: datetime) -> Output:
    r = recall.data
    entry = {"recall_number": r.recall_number, "status": r.action.value, "published_on": r.published_on.isoformat(),
             "producer": r.producer, "product_name": r.product_name, "product_kind": r.product_kind.value,
             "brand": r.brand, "model": r.model, "batch": r.batch, "barcode": r.barcode,
             "production_from": r.production_from and r.production_from.isoformat(),
             "production_to": r.production_to and r.production_to.isoformat(),
             "hazard_type": r.hazard_type, "hazard_description": r.hazard_description, "remedy": r.remedy,
             "risk_level": r.risk_level.value, "sales_regions": r.sales_regions, "notice_id": recall.id,
             "received_at": now.isoformat()}
    return Output(topic_name, r.recall_number.encode(), json.dumps(entry, ensure_ascii=False).encode(), partition=0)


def page_of(entries: list[dict], page: int, size: int) -> dict:
    """Newest first: by publication date, then by when the latest notice arrived."""
    ordered = sorted(entries, key=lambda e: (e["published_on"], e["received_at"]), reverse=True)
    start = (page - 1) * size
    return {"page": page, "per_page": size, "total": len(ordered), "items": ordered[start:start + size]}


def register_disclosure(app: faust.App, namespace: str, writer, clock, limit: DeadLetterLimit) -> str:
    name = RECALL_DISCLOSURES.name(namespace)
    topic = app.topic(name, schema=RawBytesSchema(key_serializer="raw", value_serializer="raw"), partitions=1,
                      internal=True)
    feed = app.Table("recall-disclosure", default=None, partitions=1)

    @app.agent(topic, name="recall-disclosure")
    async def disclose(stream):
        async def handle(event) -> list[Output]:
            entry = json.loads(event.message.value)
            previous = feed.get(entry["recall_number"])
            if previous and previous["notice_id"] == entry["notice_id"]:
                return []
            if previous and entry["status"] != "published":
                entry["first_received_at"] = previous.get("first_received_at", previous["received_at"])
            return [table_put(feed, 0, entry["recall_number"], entry)]

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.recall-disclosure",
                           limit=limit)

    @app.page("/v1/recalls/published")
    class PublishedRecalls(faust.web.View):
        @app.table_route(table=feed, exact_key=FEED_KEY)
        async def get(self, request):
            try:
                page = int(request.query.get("page", "1"))
                size = int(request.query.get("per_page", "20"))
                if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
                    raise ValueError
            except ValueError:
                return aioweb.json_response({"error": "invalid input", "errors": [
                    {"field": "page/per_page", "reason": f"page >= 1, 1 <= per_page <= {MAX_PAGE_SIZE}",
                     "got": f"{request.query.get('page')}/{request.query.get('per_page')}"}]}, status=422)
            entries = [v for v in feed.data.values() if v]
            return aioweb.json_response(page_of(entries, page, size),
                                        dumps=lambda v: json.dumps(v, ensure_ascii=False))

    return name
