"""Slow down password guessing: failed sign-ins are counted per client address and per email.

Only failures count, so a school office sharing one address does not lock itself out by
signing in correctly; the counters live in the shared cache (Redis in production) so every
web worker sees the same numbers.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600}


def _limit() -> tuple[int, int]:
    count, _, period = settings.LOGIN_RATE_LIMIT.partition("/")
    number = int(period[:-1] or 1)
    return int(count), number * PERIODS[period[-1]]


def _keys(ip: str | None, email: str) -> list[str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:ip:{ip or 'unknown'}", f"login-fail:email:{digest}"]


def is_locked(ip: str | None, email: str) -> bool:
    limit, _ = _limit()
    return any((cache.get(key) or 0) >= limit for key in _keys(ip, email))


def record_failure(ip: str | None, email: str) -> None:
    _, window = _limit()
    for key in _keys(ip, email):
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window)


def clear(ip: str | None, email: str) -> None:
    cache.delete_many(_keys(ip, email))
