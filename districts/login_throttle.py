"""Slow down password guessing without handing anyone a way to lock someone else out.

Failed sign-ins are counted per account *and* client address together (LOGIN_RATE_LIMIT,
default 10 in 5 minutes): a school office whose staff share one public address is not locked
out because one of them mistyped, and nobody can lock a colleague out by typing their email
from elsewhere; only guesses at one account from one address are stopped. Only failures
count, and a success clears the account's counter for that address. Password-reset requests
are counted per email and per address (PASSWORD_RESET_RATE_LIMIT, default 3 an hour per email,
and ten times that per address), so the reset form cannot flood someone's inbox.

Counters live in Redis, incremented by one atomic script (INCR, and the window's expiry set on
the first hit), so concurrent attempts are all counted. When Redis is not configured or not
reachable, the same counters are kept in the database (ThrottleCounter, one atomic upsert per
hit): sign-in keeps working, and keeps being throttled, while Redis is down.
"""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600}
# INCR then, on the first hit of a window, EXPIRE: one round trip, atomic on the server.
INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/5m" -> (10, 300)."""
    count, _, period = rate.partition("/")
    number = int(period[:-1] or 1)
    return int(count), number * PERIODS[period[-1]]


def _key(kind: str, *parts: str | None) -> str:
    digest = hashlib.sha256("|".join((part or "unknown").strip().lower() for part in parts).encode()).hexdigest()
    return f"throttle:{kind}:{digest[:40]}"


# --- sign-in ---------------------------------------------------------------------------------


def _login_key(ip: str | None, email: str) -> str:
    return _key("login", email, ip)


def is_locked(ip: str | None, email: str) -> bool:
    limit, _ = parse_rate(settings.LOGIN_RATE_LIMIT)
    return count(_login_key(ip, email)) >= limit


def record_failure(ip: str | None, email: str) -> int:
    _, window = parse_rate(settings.LOGIN_RATE_LIMIT)
    return hit(_login_key(ip, email), window)


def clear(ip: str | None, email: str) -> None:
    reset(_login_key(ip, email))


# --- password reset --------------------------------------------------------------------------


def reset_request_allowed(ip: str | None, email: str) -> bool:
    """Counts this request; False once the email or the address has asked too often."""
    limit, window = parse_rate(settings.PASSWORD_RESET_RATE_LIMIT)
    per_email = hit(_key("reset-email", email), window)
    per_address = hit(_key("reset-ip", ip), window)
    return per_email <= limit and per_address <= limit * 10


# --- counters: Redis, else the database ------------------------------------------------------


def _redis():
    cache = caches["default"]
    return cache if isinstance(cache, RedisCache) else None


def hit(key: str, window: int) -> int:
    """Add one to the counter and return it; a new window starts when the last one ended."""
    cache = _redis()
    if cache is not None:
        try:
            redis_key = cache.make_and_validate_key(key)
            return int(cache._cache.get_client(redis_key, write=True).eval(INCREMENT, 1, redis_key, window))
        except Exception as error:  # redis.exceptions.RedisError and socket errors alike
            logger.warning("sign-in throttle: Redis unavailable (%s); counting in the database", error)
    return _db_hit(key, window)


def count(key: str) -> int:
    cache = _redis()
    if cache is not None:
        try:
            value = cache._cache.get_client(cache.make_and_validate_key(key)).get(cache.make_and_validate_key(key))
            redis_count = int(value or 0)
        except Exception as error:
            logger.warning("sign-in throttle: Redis unavailable (%s); reading the database", error)
        else:
            return max(redis_count, _db_count(key))  # failures counted while Redis was down still count
    return _db_count(key)


def reset(key: str) -> None:
    cache = _redis()
    if cache is not None:
        try:
            cache.delete(key)
        except Exception as error:
            logger.warning("sign-in throttle: Redis unavailable (%s)", error)
    from .models import ThrottleCounter

    ThrottleCounter.objects.filter(name=key).delete()


def _db_hit(key: str, window: int) -> int:
    from .models import ThrottleCounter

    table = ThrottleCounter._meta.db_table
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    expires, current = adapt(now + datetime.timedelta(seconds=window)), adapt(now)
    # One statement, atomic on both databases: a live counter goes up by one, a missing or
    # expired one starts again at one.
    sql = f"""
        INSERT INTO {table} (name, count, expires_at) VALUES (%s, 1, %s)
        ON CONFLICT (name) DO UPDATE SET
            count = CASE WHEN {table}.expires_at > %s THEN {table}.count + 1 ELSE 1 END,
            expires_at = CASE WHEN {table}.expires_at > %s THEN {table}.expires_at ELSE excluded.expires_at END
        RETURNING count
    """  # noqa: S608 (the table name is the model's own)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, expires, current, current])
        return int(cursor.fetchone()[0])


def _db_count(key: str) -> int:
    from .models import ThrottleCounter

    row = ThrottleCounter.objects.filter(name=key, expires_at__gt=timezone.now()).values_list("count", flat=True)
    return row.first() or 0
