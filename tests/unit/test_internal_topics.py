"""Every internal topic the streams worker reads is created with the catalogue, before the worker starts:
Faust leaves a topic that is missing at partition assignment unassigned, so on a fresh cluster the recall
and CAP agents read nothing and an accepted recall or CAP alert reached nobody (found by `make demo`)."""

from __future__ import annotations

from contracts.topics import STREAMS_INTERNAL
from tests.agents import streams_app


def test_every_topic_an_agent_reads_is_in_the_catalogue_or_the_internal_list():
    from contracts.topics import CATALOGUE

    app = streams_app()[0].app
    known = {t.name("unit"): t.partitions for t in CATALOGUE + STREAMS_INTERNAL}
    read = {}
    for agent in app.agents.values():
        for name in agent.channel.topics:
            read[name] = agent.channel.partitions
    changelogs = {n for n in read if n.endswith("-changelog")}
    assert set(read) - changelogs <= set(known), "an agent reads a topic nobody creates before it starts"
    for name, partitions in read.items():
        if name in known and partitions:
            assert partitions == known[name], name
    assert {t.name("unit") for t in STREAMS_INTERNAL} <= set(read), "an internal topic no agent reads"


def test_internal_topics_are_named_under_the_worker_and_never_collide_with_the_catalogue():
    from contracts.topics import CATALOGUE

    names = [t.name("ns") for t in CATALOGUE + STREAMS_INTERNAL]
    assert len(names) == len(set(names))
    assert all(t.name("ns").startswith("ns-streams-") for t in STREAMS_INTERNAL)
