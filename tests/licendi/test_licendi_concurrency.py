"""The adaptive limiter: more requests in flight while the supplier copes, fewer when not."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from licendi import AdaptiveLimiter, LicendiClient, Outcome


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fill(limiter: AdaptiveLimiter) -> list[float]:
    """Take every free slot; their start times."""
    taken = []
    while (started := limiter.try_acquire()) is not None:
        taken.append(started)
    return taken


FAST = Outcome(elapsed=0.05)


def test_limiter_grows_while_answers_are_fast():
    limiter = AdaptiveLimiter(ceiling=64, initial=4, clock=FakeClock())

    for started in fill(limiter):
        limiter.release(started, FAST)

    # Slow start: one more slot per fast answer, the limit doubles per round trip.
    assert limiter.limit == 8
    for started in fill(limiter):
        limiter.release(started, FAST)
    assert limiter.limit == 16


def test_limiter_never_exceeds_its_ceiling():
    limiter = AdaptiveLimiter(ceiling=10, initial=4, clock=FakeClock())

    for _round in range(20):
        taken = fill(limiter)
        assert len(taken) <= 10
        for started in taken:
            limiter.release(started, FAST)

    assert limiter.limit == 10
    assert limiter.peak_in_flight == 10
    assert limiter.try_acquire() is not None and len(fill(limiter)) == 9


@pytest.mark.parametrize("status", [429, 500, 503])
def test_limiter_halves_on_rate_limits_and_server_errors(status):
    clock = FakeClock()
    limiter = AdaptiveLimiter(ceiling=64, initial=16, clock=clock)
    taken = fill(limiter)
    assert len(taken) == 16

    clock.now += 0.05
    # Every request of the round is refused: one halving, not sixteen.
    for started in taken:
        limiter.release(started, Outcome(elapsed=0.05, congested=True))

    assert limiter.limit == 8
    assert limiter.decreases == 1


def test_limiter_halves_again_for_requests_sent_after_the_first_halving():
    clock = FakeClock()
    limiter = AdaptiveLimiter(ceiling=64, initial=16, clock=clock)
    first = fill(limiter)
    clock.now += 0.05
    for started in first:
        limiter.release(started, Outcome(elapsed=0.05, congested=True))
    clock.now += 0.01
    second = fill(limiter)

    clock.now += 0.05
    limiter.release(second[0], Outcome(elapsed=0.05, congested=True))

    assert limiter.limit == 4


def test_limiter_grows_by_one_per_round_after_congestion():
    clock = FakeClock()
    limiter = AdaptiveLimiter(ceiling=64, initial=8, clock=clock)
    started = limiter.try_acquire()
    assert started is not None
    clock.now += 0.05
    limiter.release(started, Outcome(elapsed=0.05, congested=True))
    assert limiter.limit == 4

    for started in fill(limiter):
        limiter.release(started, FAST)

    assert limiter.limit == 5


def test_limiter_never_drops_below_its_floor():
    clock = FakeClock()
    limiter = AdaptiveLimiter(ceiling=8, initial=2, floor=1, clock=clock)
    for _ in range(5):
        clock.now += 1
        started = limiter.try_acquire()
        assert started is not None
        clock.now += 1
        limiter.release(started, Outcome(elapsed=0.05, congested=True))

    assert limiter.limit == 1


def test_limiter_holds_every_request_until_retry_after_has_passed():
    clock = FakeClock()
    limiter = AdaptiveLimiter(ceiling=8, initial=4, clock=clock)
    started = limiter.try_acquire()
    assert started is not None

    limiter.release(started, Outcome(elapsed=0.01, congested=True, retry_after=2))

    assert limiter.try_acquire() is None
    assert limiter.paused_for() == pytest.approx(2)
    clock.now += 1.99
    assert limiter.try_acquire() is None
    clock.now += 0.02
    assert limiter.try_acquire() is not None


def test_limiter_stops_growing_when_answers_slow_down():
    limiter = AdaptiveLimiter(ceiling=64, initial=4, clock=FakeClock())
    for started in fill(limiter):
        limiter.release(started, FAST)
    assert limiter.limit == 8

    for started in fill(limiter):
        # Four times the quickest answer: the supplier is queueing; hold, do not shrink.
        limiter.release(started, Outcome(elapsed=0.4))

    assert limiter.limit == 8
    assert limiter.decreases == 0


def test_limiter_rejects_a_ceiling_below_its_floor():
    with pytest.raises(ValueError):
        AdaptiveLimiter(ceiling=0)


def test_client_tells_the_limiter_about_each_attempt_and_honours_retry_after():
    """Through a real client: a 429 with Retry-After halves the limit and holds the rest."""
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "rate_limited"})]
        + [httpx.Response(200, json={"sku": "1", "name": "P", "price": "2", "netPrice": "1"})] * 50
    )
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            return next(answers)

    clock = FakeClock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = AdaptiveLimiter(ceiling=6, initial=4, clock=clock)
    client = LicendiClient(
        "http://upstream.test",
        "key",
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        limiter=limiter,
    )
    with client:
        client.get_product("1")  # 429, slept 3 s, then answered
        assert slept == [3]
        assert limiter.decreases == 1 and limiter.limit == 2
        with ThreadPoolExecutor(8) as pool:
            details = list(pool.map(client.get_product, [str(n) for n in range(40)]))

    assert len(details) == 40
    assert limiter.peak_in_flight <= 6
    assert limiter.limit == 6
    assert limiter.in_flight == 0


def test_a_slot_left_by_an_exception_counts_as_congestion():
    limiter = AdaptiveLimiter(ceiling=8, initial=8, clock=FakeClock())

    with pytest.raises(RuntimeError), limiter.slot():
        raise RuntimeError("boom")

    assert limiter.in_flight == 0
    assert limiter.limit == 4
