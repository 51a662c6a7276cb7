"""Bookkeeping shared by the apps' background runs (import runs, metrics runs, export jobs):
sending a run to the broker, and failing the ones that got stuck.

A run is a row with `status` (queued, running, …), `created_at` and `started_at`. Two ways it
can hang with nobody working on it: the broker never took the task (Redis down when it was
sent), or the worker died with it (killed past its hard time limit, or the whole worker gone
so its message waits out the broker's visibility timeout). The first is caught when sending
(`enqueue_or_fail`); the second by each app's sweep, run by beat every few minutes
(`fail_stuck`). A failed run offers a retry button on its page.
"""

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

SWEEP_EVERY_MINUTES = 2
QUEUED_LIMIT = datetime.timedelta(hours=2)  # a nightly fan-out can queue districts behind each other
RUNNING_GRACE = datetime.timedelta(minutes=5)  # past the task's hard time limit


def enqueue_or_fail(send: Callable[[], object], *, on_failure: Callable[[Exception], None]) -> None:
    """Send the task once the current transaction commits (a worker must find the row); when the
    broker refuses it, record the failure on the run instead of leaving it queued forever."""

    def attempt():
        try:
            send()
        except BROKER_ERRORS as error:
            logger.exception("could not queue a task")
            on_failure(error)

    transaction.on_commit(attempt)


def stuck(runs: QuerySet, *, running_limit: datetime.timedelta, now: datetime.datetime | None = None) -> QuerySet:
    """Runs queued longer than QUEUED_LIMIT, or running longer than the task may run."""
    now = now or timezone.now()
    return runs.filter(
        Q(status="queued", created_at__lt=now - QUEUED_LIMIT)
        | Q(status="running", started_at__lt=now - running_limit - RUNNING_GRACE)
    )


def _broker_errors() -> tuple[type[Exception], ...]:
    from kombu.exceptions import OperationalError

    errors: list[type[Exception]] = [OperationalError, ConnectionError, TimeoutError]
    try:
        from redis.exceptions import RedisError

        errors.append(RedisError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


BROKER_ERRORS = _broker_errors()
