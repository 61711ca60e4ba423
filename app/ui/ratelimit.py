"""Per-session question rate limit: a sliding one-minute window with an injectable clock."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


def _monotonic() -> float:
    return time.monotonic()  # allowed-clock: the rate limiter measures real elapsed time


class RateLimiter:
    """Allow at most `per_minute` events in any 60-second window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = _monotonic) -> None:
        """Create a limiter; `clock` returns seconds (monotonic)."""
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._events and now - self._events[0] >= WINDOW_S:
            self._events.popleft()

    def allow(self) -> bool:
        """Record an event and return True; return False, recording nothing, when over the limit."""
        now = self._clock()
        self._expire(now)
        if len(self._events) >= self.per_minute:
            return False
        self._events.append(now)
        return True

    def retry_after(self) -> float:
        """Seconds until the next event would be allowed (0 when allowed now)."""
        now = self._clock()
        self._expire(now)
        if len(self._events) < self.per_minute:
            return 0.0
        return max(0.0, WINDOW_S - (now - self._events[0]))
