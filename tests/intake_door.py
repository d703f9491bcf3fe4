"""The streams worker's real web server (Faust views) in-process, with a recording writer and no broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from contracts.clock import FakeClock
from ops.kafka_local import free_port
from streams.app import create_app
from streams.config import StreamsConfig
from streams.idempotency import MemoryIdempotencyLedger
from streams.intake_tokens import IntakeTokenBook

RECEIVED = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
CAP_ALERT = {
    "identifier": "310115000000001_20261129103000_1", "sender": "emergency@example.invalid",
    "sent": "2026-11-29T02:30:00+00:00", "status": "Exercise", "msg_type": "Alert", "scope": "Public",
    "categories": ["Met"], "event": "暴雨", "urgency": "Expected", "severity": "Severe", "certainty": "Likely",
    "areas": [{"area_desc": "示例区", "circles": [{"center": {"lat": 31.2, "lon": 121.5}, "radius_km": 5}]}]}


@dataclass
class Meta:
    topic: str
    partition: int
    offset: int


@dataclass
class RecordingWriter:
    """The writer port with observable state: what the broker would have acknowledged."""

    written: list = field(default_factory=list)
    up: bool = True

    async def write(self, outputs):
        if not self.up:
            raise ConnectionError("broker down")
        metas = []
        for o in outputs:
            self.written.append(o)
            metas.append(Meta(getattr(o.topic, "suffix", str(o.topic)), 0, len(self.written) - 1))
        return metas

    async def reachable(self) -> bool:
        return self.up


class RunningIntake:
    def __init__(self, tmp: Path, insecure_local: bool = False, max_body_bytes: int = 16384, ledger=None):
        self.port = free_port()
        self.writer = RecordingWriter()
        self.clock = FakeClock(RECEIVED)
        self.tokens = IntakeTokenBook(tmp / "intake-tokens.json")
        self.ledger = ledger or MemoryIdempotencyLedger()
        self.app = create_app(StreamsConfig(bootstrap="127.0.0.1:1", namespace="unit", web_port=self.port,
                                            max_body_bytes=max_body_bytes, intake_tokens_file=str(self.tokens.path),
                                            intake_insecure_local=insecure_local),
                              clock=self.clock, writer=self.writer, ledger=self.ledger).app
        self.app.finalize()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def issue(self, routes: list[str], kind: str, sender: str, **kw) -> str:
        return self.tokens.issue(routes, kind, sender, self.clock.now(), **kw)[1]

    async def __aenter__(self):
        await self.app.web.start()
        return self

    async def __aexit__(self, *exc):
        await self.app.web.stop()


async def raw_exchange(port: int, head: bytes, segments: list[bytes], pause_s: float = 0.15) -> tuple[int, bytes]:
    """Send a request's head, then its body in separate TCP segments with pauses (a slow mobile link)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    for segment in segments:
        await asyncio.sleep(pause_s)  # the pause is the input under test, not a wait for a result
        writer.write(segment)
        await writer.drain()
    response = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]
