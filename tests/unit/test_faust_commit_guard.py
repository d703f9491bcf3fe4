"""Faust never commits past a message its agent did not acknowledge (streams.faust_plumbing).

Faust 0.15.3 let a run of acked offsets that starts one past the committed offset be committed: the message at
the committed offset, dropped by the fetcher at a rebalance, was skipped for good (the full fault profile lost 2
reports that way at a streams worker's SIGKILL). The real Faust consumer of the real app, no broker needed."""

from __future__ import annotations

from faust.types import TP

from streams.config import StreamsConfig, faust_app

INTAKE = TP("unit.incidents.reported.v1", 2)
COMPACTED = TP("unit.registrations.holdings.v1", 0)


def _consumer():
    app = faust_app(StreamsConfig(bootstrap="127.0.0.1:1", namespace="unit"))
    return app.consumer


def test_a_run_starting_past_the_committed_offset_is_not_committed():
    consumer = _consumer()
    consumer._committed_offset[INTAKE] = 24  # the next offset to read: 24 was never acked
    consumer._acked[INTAKE] = [25]
    assert consumer._new_offset(INTAKE) is None
    consumer._acked[INTAKE].append(24)  # redelivered and acked: now both are committed
    consumer._acked_index[INTAKE].update({24, 25})
    assert consumer._new_offset(INTAKE) == 26


def test_a_run_starting_at_the_committed_offset_is_committed_as_before():
    consumer = _consumer()
    consumer._committed_offset[INTAKE] = 24
    consumer._acked[INTAKE] = [24, 25, 26, 28]
    assert consumer._new_offset(INTAKE) == 27


def test_before_any_commit_and_on_compacted_topics_faust_decides_as_before():
    consumer = _consumer()
    consumer._acked[INTAKE] = [5, 6]  # nothing committed yet: where the group starts is Faust's to say
    assert consumer._new_offset(INTAKE) == 7
    consumer._committed_offset[COMPACTED] = 10  # offsets may be missing from a compacted log
    consumer._acked[COMPACTED] = [11, 12]
    assert consumer._new_offset(COMPACTED) == 13
