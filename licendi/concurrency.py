"""How many requests to keep in flight: an adaptive limit shared by a client's threads.

Against a real supplier each request is a network round trip, so a catalog sync is
as fast as the number of requests in flight allows; but the supplier decides how many
it tolerates. `AdaptiveLimiter` finds out (additive increase, multiplicative decrease,
as TCP does):

* it starts at ``initial`` and grows while answers are fast: by one per fast answer
  until the first sign of trouble (slow start: the limit doubles each round trip),
  then by one per ``limit`` fast answers (one per round trip);
* an answer is fast when it took at most ``slow_factor`` times the quickest answer
  seen (plus ``slack`` seconds): a supplier that slows down under load stops the growth
  before it refuses anything;
* a 429, a 5xx or a failed exchange halves the limit, at most once per round trip
  (requests already in flight when it halved do not halve it again);
* a ``Retry-After`` hint holds every new request until it has passed;
* it never exceeds ``ceiling`` nor drops below ``floor``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one exchange said about the supplier's load."""

    elapsed: float
    congested: bool = False  # 429, 5xx or no answer
    retry_after: float | None = None


class AdaptiveLimiter:
    def __init__(
        self,
        *,
        ceiling: int,
        initial: int = 4,
        floor: int = 1,
        slow_factor: float = 2.0,
        slack: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if floor < 1:
            raise ValueError("floor must be at least 1")
        if ceiling < floor:
            raise ValueError("ceiling must be at least floor")
        self.ceiling = ceiling
        self.floor = floor
        self.slow_factor = slow_factor
        self.slack = slack
        self._clock = clock
        self._limit = min(max(initial, floor), ceiling)
        self._in_flight = 0
        self._slow_start = True
        self._fast_answers = 0
        self._quickest: float | None = None
        self._decreased_at = float("-inf")
        self._paused_until = float("-inf")
        self._changed = threading.Condition()
        # Counters for reports and benchmarks.
        self.peak_in_flight = 0
        self.peak_limit = self._limit
        self.decreases = 0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def paused_for(self) -> float:
        """Seconds until a Retry-After hint has passed (0 when none holds)."""
        return max(0.0, self._paused_until - self._clock())

    def try_acquire(self) -> float | None:
        """Take a slot if one is free and no Retry-After holds; its start time, or None."""
        with self._changed:
            return self._take()

    def acquire(self) -> float:
        """Wait for a slot; returns the start time to hand back to `release`."""
        with self._changed:
            while True:
                started = self._take()
                if started is not None:
                    return started
                paused = self.paused_for()
                self._changed.wait(timeout=paused if paused > 0 else None)

    def release(self, started: float, outcome: Outcome) -> None:
        with self._changed:
            self._in_flight -= 1
            if outcome.retry_after:
                self._paused_until = max(self._paused_until, self._clock() + outcome.retry_after)
            if outcome.congested:
                self._decrease(started)
            else:
                self._observe(outcome.elapsed)
            self._changed.notify_all()

    @contextmanager
    def slot(self) -> Iterator[Callable[[Outcome], None]]:
        """``with limiter.slot() as done: ...; done(Outcome(...))``; a slot left without
        an outcome (an exception) counts as congestion."""
        started = self.acquire()
        told: list[Outcome] = []
        try:
            yield told.append
        finally:
            self.release(
                started,
                told[-1] if told else Outcome(self._clock() - started, congested=True),
            )

    # ------------------------------------------------------------ internals

    def _take(self) -> float | None:
        now = self._clock()
        if now < self._paused_until or self._in_flight >= self._limit:
            return None
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        return now

    def _decrease(self, started: float) -> None:
        self._slow_start = False
        self._fast_answers = 0
        if started < self._decreased_at:
            return  # sent before the last halving: the same congestion, already answered
        self._limit = max(self.floor, self._limit // 2)
        self._decreased_at = self._clock()
        self.decreases += 1

    def _observe(self, elapsed: float) -> None:
        if self._quickest is None or elapsed < self._quickest:
            self._quickest = elapsed
        if elapsed > self._quickest * self.slow_factor + self.slack:
            return  # the supplier is slowing down: hold the limit where it is
        if self._limit >= self.ceiling:
            return
        self._fast_answers += 1
        if self._slow_start or self._fast_answers >= self._limit:
            self._limit += 1
            self._fast_answers = 0
            self.peak_limit = max(self.peak_limit, self._limit)
