"""Test helpers: the webhook app served from a background thread, and alert requests to publish."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from contracts.alert_request import AlertRequested
from contracts.events import AlertRequestedEvent
from ops.kafka_local import free_port


class BackgroundApp:
    def __init__(self, app: web.Application, port: int | None = None):
        self.app, self.port = app, port or free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self.app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> BackgroundApp:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def alert_event(alert_id: str, school_id: str, **extra) -> AlertRequestedEvent:
    alert = AlertRequested(alert_id=alert_id, kind="incident_emergency", priority=extra.pop("priority", "emergency"),
                           audience={"kind": "school_guardians", "school_id": school_id},
                           params={"school_id": school_id, "category": "fire"}, source_event_id=f"ev-{alert_id}",
                           reason="integration test", **extra)
    return AlertRequestedEvent.new(alert, source="/tests/sms", subject=alert_id)
