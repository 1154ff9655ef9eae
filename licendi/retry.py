"""Backoff arithmetic, kept apart from the client so it can be tested alone."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable


def backoff_delay(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads the retries of many workers that failed together, so a
    recovering supplier is not hit by a synchronised wave.
    """
    ceiling = min(cap, base * (2.0**attempt))
    return max(0.0, rng() * ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP-date), None if absent or garbage."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
