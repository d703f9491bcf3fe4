"""Stop what is still pending of an alert: a withdrawn recall, a found child, a CAP Cancel or Update.

Keyed by alert id on a topic with as many partitions as ``alerts.requested``, so a cancellation lands on
the same partition number as the request it cancels. The fan-out emits no further jobs for a cancelled
alert, and the dispatcher drops (marks ``cancelled``) every job of it not yet handed to the provider.
Messages already sent stay sent: a cancellation stops, it does not recall.
"""

from __future__ import annotations

from pydantic import Field

from contracts.common import AwareDatetime, Contract, ShortText


class AlertCancelled(Contract):
    """`cn.childsafe.alert.cancelled.v1`."""

    alert_id: str = Field(min_length=1, max_length=128)
    reason: ShortText
    cancelled_at: AwareDatetime
    source_event_id: str = Field(min_length=1, max_length=128)
