"""The streams worker's own topics, listed once: what its agents re-key to, and the changelogs of its tables.

Faust creates them (``internal=True``); they are named after the app id ``<namespace>-streams``. The topics that
other workers read are in the catalogue (contracts/topics.py).
"""

from __future__ import annotations

from dataclasses import dataclass


def app_id(namespace: str) -> str:
    return f"{namespace}-streams"


@dataclass(frozen=True)
class InternalTopic:
    suffix: str
    holds: str

    def name(self, namespace: str) -> str:
        return f"{app_id(namespace)}-{self.suffix}"


RECALL_PROBES = InternalTopic("recall-probes", "recalls re-keyed by holder key, to meet the holdings they may match")
RECALL_DISCLOSURES = InternalTopic("recall-disclosures", "published recalls for the public feed (one partition)")
EMERGENCY_THREADS = InternalTopic("emergency-threads", "CAP messages re-keyed by thread root")
SPIKE_DISTRICTS = InternalTopic("spike-districts", "reports of the spike kinds re-keyed by district "
                                                   "(contracts/spikes.SpikeReportForwarded)")
INTAKE_IDEMPOTENCY = InternalTopic("intake-idempotency", "the intake's idempotency keys (compacted)")

INTERNAL_TOPICS = (RECALL_PROBES, RECALL_DISCLOSURES, EMERGENCY_THREADS, SPIKE_DISTRICTS, INTAKE_IDEMPOTENCY)


def changelog(namespace: str, table: str) -> str:
    """The changelog topic Faust keeps for a table (e.g. ``triage-seen``, ``recall-holdings``)."""
    return f"{app_id(namespace)}-{table}-changelog"
