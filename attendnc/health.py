"""The checks behind /healthz. Each answers {"status": "ok" | "down" | "not_used", ...} quickly:
a check that hangs would make the health check itself the outage."""

import time

from django.conf import settings
from django.db import connection

from .celery import app as celery_app

PING_TIMEOUT = 1.0  # seconds to wait for workers to answer


def _timed(check):
    started = time.monotonic()
    try:
        detail = check() or {}
    except Exception as error:
        return {"status": "down", "error": f"{type(error).__name__}: {error}"[:300]}
    return {"status": "ok", "ms": round((time.monotonic() - started) * 1000, 1), **detail}


def database() -> dict:
    def query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return _timed(query)


def redis() -> dict:
    if not settings.REDIS_URL:
        return {"status": "not_used", "detail": "no REDIS_URL: in-memory cache, tasks run in-process"}
    import redis as redis_client

    def ping():
        redis_client.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()

    return _timed(ping)


def celery_workers(*, broker_up: bool = True) -> dict:
    if celery_app.conf.task_always_eager:
        return {"status": "not_used", "detail": "tasks run in-process (CELERY_TASK_ALWAYS_EAGER)"}
    if not broker_up:  # asking through a dead broker would retry for a long while
        return {"status": "down", "error": "the broker (Redis) is unreachable"}

    def ping():
        replies = celery_app.control.ping(timeout=PING_TIMEOUT) or []
        if not replies:
            raise RuntimeError("no worker answered")
        return {"workers": len(replies)}

    return _timed(ping)
