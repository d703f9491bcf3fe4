"""How the console sends a report: over HTTP to the intake, with the console's own bearer token.

The console does not write to Kafka itself: the intake's checks (contract, body size, tokens,
idempotency, whatever the intake adds later) apply to console reports exactly as to any client.
A transport failure or a 503 is retried with the same Idempotency-Key, so a report is routed once.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class IntakeAnswer:
    status: str  # "accepted" | "refused" | "unavailable"
    event_id: str = ""
    errors: list[dict] = field(default_factory=list)
    detail: str = ""


class IntakeClient:
    def __init__(self, base_url: str, token: str, attempts: int = 3, backoff_s: float = 0.3, timeout_s: float = 10):
        self.base_url, self.token = base_url.rstrip("/"), token
        self.attempts, self.backoff_s, self.timeout_s = attempts, backoff_s, timeout_s
        # httpx loads the CA bundle for every client it builds (44 ms of CPU each on a 2-core machine); the
        # console builds one client per send, so it loads the bundle once here and hands it to each.
        self.tls = httpx.create_ssl_context()

    def client(self) -> httpx.AsyncClient:
        """A client for one exchange with the intake (a send and its retries, or one read of the feed)."""
        return httpx.AsyncClient(timeout=self.timeout_s, verify=self.tls)

    async def send(self, path: str, payload: dict, idempotency_key: str) -> IntakeAnswer:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        return await self.send_bytes(path, body, "application/json", idempotency_key)

    async def send_bytes(self, path: str, body: bytes, content_type: str, idempotency_key: str) -> IntakeAnswer:
        """``body`` as is (CAP XML: ``application/cap+xml``), with the same retries and answers as ``send``."""
        headers = {"Content-Type": content_type, "Idempotency-Key": idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        last = ""
        async with self.client() as client:
            for attempt in range(self.attempts):
                try:
                    resp = await client.post(self.base_url + path, content=body, headers=headers)
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                else:
                    if resp.status_code == 202:
                        return IntakeAnswer("accepted", event_id=resp.json().get("id", idempotency_key))
                    if resp.status_code in (400, 409, 413, 422):
                        data = _json(resp)
                        errors = data.get("errors") or [{"field": "(form)", "reason": data.get("error", resp.text)}]
                        return IntakeAnswer("refused", errors=errors, detail=str(resp.status_code))
                    last = f"HTTP {resp.status_code}"
                    if resp.status_code not in (429, 502, 503, 504):
                        break  # 401/403: the console's token is wrong; retrying does not help
                await asyncio.sleep(self.backoff_s * (2 ** attempt))
        return IntakeAnswer("unavailable", detail=last)


def _json(resp: httpx.Response) -> dict:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
