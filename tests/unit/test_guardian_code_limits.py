"""Guardians' SMS-code limits: per phone number whatever way the number is written and whatever address asks
(rotating addresses cannot flood one phone), per client address with IPv6 counted by its /64 (one address cannot
probe many numbers), a burst of concurrent requests held to the limit on SQLite and PostgreSQL, and every refusal
a 429 saying when to try again."""

from __future__ import annotations

import ipaddress
import itertools
import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.guardians import CodePolicy, GuardianCode, Refused, client_key, issue_code, phone_of
from consumers.store.db import make_engine, session_factory, transaction
from contracts.clock import FakeClock
from tests.cap_samples import CLOCK_START
from tests.console_fixtures import FAST_HASHER
from tests.databases import migrated_sqlite

NUMBERS = ["13800000000", "19900077001", "19900077002"]  # the reserved 138 0000 0000 and the sandbox +86 199 block
FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")
SEPARATORS = ["", " ", "-", ".", "\u3000", "\u00a0", "\u200b", "\u2060", "－"]


@st.composite
def writing(draw, national: str) -> str:
    """One of the many ways a person writes a mainland mobile: +86 / 0086 / 86 / (+86) / none, separators between
    groups (spaces, dashes, dots, ideographic and no-break spaces, zero-width), full-width digits, RTL marks."""
    prefix = draw(st.sampled_from(["+86", "0086", "86", "(+86)", "+86 ", "0086 ", "", "tel:+86-"]))
    sep = draw(st.sampled_from(SEPARATORS))
    groups = [national[:3], national[3:7], national[7:]]
    text = prefix + sep + sep.join(groups)
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    if draw(st.booleans()):
        text = draw(st.sampled_from(["\u200f", "\u202b", " ", "\u200e"])) + text + draw(st.sampled_from(["", " ", "\u200f"]))
    return text


@pytest.fixture(scope="module")
def codes_db(tmp_path_factory):
    with migrated_sqlite(tmp_path_factory.mktemp("codes")) as engine:
        yield session_factory(engine)


EXAMPLE = itertools.count(1)
POLICY = CodePolicy(per_number=3, per_client=5, window=timedelta(hours=1))


def ask(factory, raw_phone: str, client: str, clock: FakeClock) -> str | Refused:
    try:
        phone = phone_of(raw_phone)
        with transaction(factory) as session:
            return issue_code(session, phone, client, clock.now(), POLICY, FAST_HASHER)
    except Refused as exc:
        return exc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), national=st.sampled_from(NUMBERS))
def test_every_writing_of_one_number_from_rotating_addresses_shares_the_number_limit(codes_db, data, national):
    clock = FakeClock(CLOCK_START + timedelta(days=next(EXAMPLE)))  # a fresh window per example
    writings = [data.draw(writing(national)) for _ in range(POLICY.per_number + 2)]
    assert {phone_of(w) for w in writings} == {"+86" + national}, writings
    answers = [ask(codes_db, w, f"203.0.113.{n}", clock) for n, w in enumerate(writings)]  # a new address each time
    assert all(isinstance(a, str) and len(a) == 6 for a in answers[:POLICY.per_number])
    for refused in answers[POLICY.per_number:]:
        assert isinstance(refused, Refused) and (refused.status, refused.key) == (429, "g.too_many_number")
        assert refused.kw["retry_after"] == 3600 and refused.kw["minutes"] == 60
    clock.advance(timedelta(minutes=30))
    later = ask(codes_db, writings[0], "198.51.100.7", clock)
    assert isinstance(later, Refused) and later.kw["retry_after"] == 1800, "the wait shrinks as the window moves"
    clock.advance(timedelta(minutes=30, seconds=1))
    assert isinstance(ask(codes_db, writings[-1], "198.51.100.8", clock), str), "the window passes"


def test_one_address_probing_many_numbers_is_held_to_the_client_limit(codes_db):
    clock = FakeClock(CLOCK_START - timedelta(days=3))
    numbers = [f"+86199000780{n:02d}" for n in range(POLICY.per_client + 3)]
    answers = [ask(codes_db, n, client_key("2001:db8:1:2::" + format(i, "x")), clock)
               for i, n in enumerate(numbers)]  # rotating inside one /64 is one client
    assert all(isinstance(a, str) for a in answers[:POLICY.per_client])
    assert all(isinstance(a, Refused) and a.key == "g.too_many_client" and a.status == 429
               for a in answers[POLICY.per_client:])


@given(address=st.ip_addresses(v=6), host=st.integers(0, 2 ** 64 - 1))
def test_an_ipv6_client_is_counted_by_its_slash_64(address, host):
    network = ipaddress.IPv6Network((address, 64), strict=False)
    sibling = network.network_address + host
    if address.ipv4_mapped is None and sibling.ipv4_mapped is None:
        assert client_key(str(address)) == client_key(str(sibling)) == str(network)


@pytest.mark.parametrize("remote, key", [("192.0.2.7", "192.0.2.7"), ("::ffff:192.0.2.7", "192.0.2.7"),
                                         ("fe80::1%eth0", "fe80::/64"), (None, "unknown"), ("", "unknown"),
                                         ("not an address", "unknown"), ("x" * 5000, "unknown")])
def test_client_keys_of_odd_peers(remote, key):
    assert client_key(remote) == key


def test_a_burst_of_concurrent_requests_for_one_number_is_held_to_the_limit(db_url):
    engine = make_engine(db_url)
    factory, clock = session_factory(engine), FakeClock(CLOCK_START)
    start, answers = threading.Barrier(8), []

    def one(n: int) -> None:
        start.wait(10)
        try:
            answers.append(ask(factory, "+86 199 0007 7001", f"192.0.2.{n}", clock))
        except Exception as exc:  # noqa: BLE001 - anything but a code or a Refused fails the test below
            answers.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert sum(isinstance(a, str) for a in answers) == POLICY.per_number, answers
        assert all(isinstance(a, str) or (isinstance(a, Refused) and a.status == 429) for a in answers), answers
        with factory() as session:
            assert session.query(GuardianCode).count() == POLICY.per_number
    finally:
        engine.dispose()
