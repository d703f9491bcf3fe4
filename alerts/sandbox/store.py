"""What the sandbox holds: every accepted message, shaped as Twilio's Message resource."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

API_VERSION = "2010-04-01"


def rfc2822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


@dataclass(slots=True)
class StoredMessage:
    account_sid: str
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None
    validity_period: int | None
    num_segments: int
    sid: str = field(default_factory=lambda: "SM" + uuid.uuid4().hex)
    status: str = "queued"
    error_code: int | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    sent: datetime | None = None
    fault: str | None = None

    def resource(self) -> dict:
        """The JSON Twilio returns for a Message (create, fetch and list share it)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": self.body,
            "date_created": rfc2822(self.created), "date_updated": rfc2822(self.updated),
            "date_sent": rfc2822(self.sent) if self.sent else None, "direction": "outbound-api",
            "error_code": self.error_code, "error_message": None, "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid, "num_media": "0",
            "num_segments": str(self.num_segments), "price": None, "price_unit": "USD", "sid": self.sid,
            "status": self.status, "to": self.to, "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json"),
                                 "feedback": uri.replace(".json", "/Feedback.json")},
        }

    def record(self) -> dict:
        """Everything the sandbox knows, for /_sandbox/messages (includes the callback URL Twilio hides)."""
        data = asdict(self)
        data["from"] = data.pop("from_")
        for key in ("created", "updated", "sent"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


class MessageStore:
    """Thread-safe: the server loop writes, tests and the CLI read."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_sid: dict[str, StoredMessage] = {}
        self._by_to: dict[str, list[str]] = {}

    def add(self, message: StoredMessage) -> None:
        with self._lock:
            self._by_sid[message.sid] = message
            self._by_to.setdefault(message.to, []).append(message.sid)

    def get(self, sid: str) -> StoredMessage | None:
        with self._lock:
            return self._by_sid.get(sid)

    def update(self, sid: str, status: str, error_code: int | None = None) -> StoredMessage | None:
        with self._lock:
            message = self._by_sid.get(sid)
            if message is not None:
                message.status, message.updated = status, datetime.now(UTC)
                if status == "sent":
                    message.sent = message.updated
                if error_code is not None:
                    message.error_code = error_code
            return message

    def newest_first(self, to: str | None = None) -> list[StoredMessage]:
        with self._lock:
            sids = self._by_to.get(to, []) if to is not None else list(self._by_sid)
            return [self._by_sid[s] for s in reversed(sids)]

    def counts(self) -> Counter:
        with self._lock:
            return Counter({to: len(sids) for to, sids in self._by_to.items()})

    def clear(self) -> None:
        with self._lock:
            self._by_sid.clear()
            self._by_to.clear()
