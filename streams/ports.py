"""The streams worker's ports: what the agents write through and where the intake keeps idempotency keys.
The real ones are `streams.writer.KafkaWriter` and `streams.idempotency.KafkaIdempotencyLedger` (chosen by
ops/bootstrap.py); tests pass fakes (tests/fakes.py) or `MemoryIdempotencyLedger`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from streams.output import Output


class StreamsWriter(Protocol):
    async def write(self, outputs: Iterable[Output]) -> Sequence[Any]:
        """Send every output; return each one's record metadata once the broker acknowledged it."""
        ...


class IdempotencyLedger(Protocol):
    async def claim(self, client: str, key: str, digest: str) -> Any:
        """Claim (client, key) for the body with this digest; say whether it is new, a replay or a conflict."""
        ...

    async def settle(self, client: str, key: str, digest: str, answer: dict) -> None:
        """Record the answer given for a claimed key."""
        ...
