"""Rate limits: one token bucket per API key or embed token user, refilled by the API's clock.

A bucket holds up to `api_rate_burst` requests and refills at `api_rate_per_minute`; a request
finding it empty is refused with 429 and a Retry-After of the whole seconds until the next one
fits. The clock is the API's (passed in), so tests drive it instead of sleeping.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass
class _Bucket:
    tokens: float
    at: float  # seconds (the clock's timestamp) when `tokens` was last brought up to date


class RateLimiter:
    """Token buckets by caller key; `take` spends one request or says when to retry."""

    MAX_BUCKETS = 100_000  # idle full buckets are dropped past this many

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], datetime]) -> None:
        """A limiter refilling `per_minute` requests a minute into buckets of `burst`."""
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int | None:
        """Spend one request of `key`'s bucket: None if allowed, else seconds to wait."""
        now = self.clock().timestamp()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled completely (forgetting them changes nothing)."""
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
