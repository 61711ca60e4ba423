"""The per-session question rate limit: a sliding one-minute window over an injected clock."""

from types import SimpleNamespace

import pytest

from app.ui import ratelimit
from app.ui.ratelimit import RateLimiter


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_refuses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.allow() for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after() == pytest.approx(60.0)


def test_window_slides_event_by_event() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.allow()
    clock.now += 30
    assert limiter.allow()
    assert not limiter.allow()
    assert limiter.retry_after() == pytest.approx(30.0)
    clock.now += 29.9
    assert not limiter.allow()  # the first event is 59.9 s old: still inside the window
    clock.now += 0.1
    assert limiter.allow()  # the first event left the window; the second is 30 s old
    assert not limiter.allow()


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.allow()
    for _ in range(10):
        clock.now += 5
        assert not limiter.allow()
    clock.now += 10
    assert limiter.allow()


def test_retry_after_is_zero_when_allowed() -> None:
    limiter = RateLimiter(5, clock=FakeClock())
    assert limiter.retry_after() == 0.0


def test_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_default_clock_is_monotonic_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=clock))
    limiter = RateLimiter(1)
    assert limiter.allow()
    assert not limiter.allow()
    clock.now += 59.5
    assert limiter.retry_after() == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.allow()
