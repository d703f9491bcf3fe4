"""The console's client of the intake, against a real HTTP server that answers as the intake can."""

from __future__ import annotations

import ssl

from aiohttp import web
from aiohttp.test_utils import TestServer

from console.intake import IntakeClient


class FakeIntake:
    """Answers each POST with the next scripted status and records what it was sent."""

    def __init__(self, *answers: int):
        self.answers = list(answers)
        self.seen: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append({"key": request.headers.get("Idempotency-Key"), "auth": request.headers.get("Authorization"),
                          "body": await request.read()})
        status = self.answers.pop(0)
        if status == 202:
            return web.json_response({"id": "r-fake-1"}, status=202)
        if status == 400:
            return web.json_response({"errors": [{"field": "school_id", "reason": "unknown school"}]}, status=400)
        return web.json_response({"error": "idempotency ledger unavailable"}, status=status)


async def _send(intake: FakeIntake, *keys: str) -> list:
    """One console client sends a report under each key to the fake intake, served on a real socket."""
    app = web.Application()
    app.router.add_post("/v1/incidents", intake.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        client = IntakeClient(str(server.make_url("")), "tok-console-test", attempts=3, backoff_s=0.001, timeout_s=5)
        return [await client.send("/v1/incidents", {"school_id": "sch-test-001"}, key) for key in keys]
    finally:
        await server.close()


async def test_a_503_is_retried_with_the_same_key_until_accepted():
    intake = FakeIntake(503, 503, 202)
    [answer] = await _send(intake, "key-1")
    assert answer.status == "accepted" and answer.event_id == "r-fake-1"
    assert [s["key"] for s in intake.seen] == ["key-1"] * 3
    assert {s["auth"] for s in intake.seen} == {"Bearer tok-console-test"}


async def test_a_refusal_is_not_retried_and_names_its_field():
    intake = FakeIntake(400, 202)
    [answer] = await _send(intake, "key-2")
    assert answer.status == "refused" and answer.errors == [{"field": "school_id", "reason": "unknown school"}]
    assert len(intake.seen) == 1


async def test_still_unavailable_after_every_attempt_says_why():
    intake = FakeIntake(503, 503, 503)
    [answer] = await _send(intake, "key-3")
    assert answer.status == "unavailable" and answer.detail == "HTTP 503" and len(intake.seen) == 3


async def test_the_ca_bundle_is_loaded_once_per_client_not_once_per_send(monkeypatch):
    built: list[object] = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: built.append(1) or real(*a, **k))
    answers = await _send(FakeIntake(202, 202, 202), "key-tls-0", "key-tls-1", "key-tls-2")
    assert [a.status for a in answers] == ["accepted"] * 3
    assert len(built) == 1, f"{len(built)} TLS contexts for one client's 3 sends"
