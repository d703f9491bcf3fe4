"""Delivery policy with an injected clock: quiet hours, opt-outs, provider refusals, token bucket."""

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from alerts.policy import Action, QuietHours, after_refusal, decide
from alerts.rate_limit import TokenBucket
from contracts.clock import FakeClock
from contracts.common import Priority

UTC = UTC
SHANGHAI = timezone(timedelta(hours=8))


def beijing(h, m=0, day=29):
    return datetime(2026, 11, day, h, m, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(("now", "release"), [
    (beijing(22, 0), beijing(7, 0, day=30)),
    (beijing(23, 59), beijing(7, 0, day=30)),
    (beijing(0, 0), beijing(7, 0)),
    (beijing(6, 59), beijing(7, 0)),
    (beijing(7, 0), None),
    (beijing(12, 0), None),
    (beijing(21, 59), None),
])
def test_quiet_hours_hold_normal_messages_until_morning(now, release):
    decision = decide(Priority.NORMAL, opted_out=False, now=now)
    if release is None:
        assert decision.action == Action.SEND
    else:
        assert decision.action == Action.HOLD and decision.release_at == release and decision.release_at.tzinfo == UTC


@pytest.mark.parametrize("priority", [Priority.EMERGENCY, Priority.URGENT])
def test_quiet_hours_never_hold_emergency_or_urgent(priority):
    assert decide(priority, opted_out=False, now=beijing(3, 0)).action == Action.SEND


def test_quiet_hours_follow_a_fake_clock_across_the_night():
    clock = FakeClock(beijing(21, 30))
    seen = []
    for _ in range(12):
        seen.append(decide(Priority.NORMAL, opted_out=False, now=clock.now()).action)
        clock.advance(timedelta(hours=1))
    # 21:30 send; 22:30 .. 06:30 hold (9 hours); 07:30 .. 08:30 send
    assert seen == [Action.SEND] + [Action.HOLD] * 9 + [Action.SEND] * 2


def test_configurable_daytime_window_and_disabled_window():
    lunch = QuietHours(start=time(12, 0), end=time(14, 0))
    assert lunch.release_time(beijing(13, 0)) == beijing(14, 0)
    assert lunch.release_time(beijing(14, 0)) is None
    assert QuietHours(start=time(0, 0), end=time(0, 0)).release_time(beijing(3, 0)) is None


def test_opt_outs_are_honoured_for_normal_and_urgent_but_not_emergencies():
    noon = beijing(12, 0)
    assert decide(Priority.NORMAL, opted_out=True, now=noon).action == Action.SKIP
    assert decide(Priority.URGENT, opted_out=True, now=noon).action == Action.SKIP
    emergency = decide(Priority.EMERGENCY, opted_out=True, now=beijing(3, 0))
    assert emergency.action == Action.SEND and "opt-out" in emergency.reason


def test_opted_out_normal_message_at_night_is_skipped_not_held():
    assert decide(Priority.NORMAL, opted_out=True, now=beijing(23, 0)).action == Action.SKIP


def test_provider_unsubscribed_refusal_records_opt_out_and_tries_next_guardian_for_emergencies():
    outcome = after_refusal(Priority.EMERGENCY, 21610, guaranteed_reach=False)
    assert outcome.record_opt_out and outcome.try_next_contact and not outcome.number_unusable
    normal = after_refusal(Priority.NORMAL, 21610, guaranteed_reach=False)
    assert normal.record_opt_out and not normal.try_next_contact
    assert after_refusal(Priority.NORMAL, 21610, guaranteed_reach=True).try_next_contact


@pytest.mark.parametrize("code", [21211, 21614])
def test_unusable_numbers(code):
    outcome = after_refusal(Priority.URGENT, code, guaranteed_reach=True)
    assert outcome.number_unusable and outcome.try_next_contact and not outcome.record_opt_out


def test_undelivered_falls_back_only_when_reach_matters():
    assert after_refusal(Priority.EMERGENCY, 30003, guaranteed_reach=False).try_next_contact
    assert not after_refusal(Priority.NORMAL, 30005, guaranteed_reach=False).try_next_contact


def test_token_bucket_allows_burst_then_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    clock.advance(0.1)
    assert bucket.try_acquire() and not bucket.try_acquire()
    clock.advance(10)
    assert bucket.available() == 5  # never more than the burst


def test_token_bucket_reservations_space_senders_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=4, burst=1, clock=clock)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    clock.advance(1.0)
    assert bucket.reserve() == pytest.approx(0.25)


def test_token_bucket_sustained_rate_over_simulated_minute():
    clock = FakeClock()
    bucket = TokenBucket(rate=50, burst=50, clock=clock)
    sent = 0
    for _ in range(6000):  # 60 s in 10 ms steps
        while bucket.try_acquire():
            sent += 1
        clock.advance(0.01)
    assert 50 * 60 <= sent <= 50 * 60 + 50


def test_token_bucket_rejects_bad_rate():
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, clock=FakeClock())


def test_time_critical_messages_carry_a_short_validity_period():
    from alerts.policy import validity_seconds

    assert validity_seconds(Priority.URGENT) == 3600 and validity_seconds(Priority.EMERGENCY) == 1800
    assert validity_seconds(Priority.NORMAL) is None
    assert validity_seconds(Priority.URGENT, requested=300) == 300
