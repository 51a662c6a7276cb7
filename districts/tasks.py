"""The base for every task that works on one district's data."""

from celery import Task
from celery._state import _task_stack
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from .models import District
from .tenancy import district_scope

# A database restarting, a connection dropped, a deadlock, a broker blip: worth another try a
# little later. Anything else is a bug or bad data and fails the run at once.
RETRYABLE_ERRORS = (OperationalError, InterfaceError, BrokerError)


class DistrictTask(Task):
    """Runs the task body inside the district's scope. The first argument is the district id:
    arguments stay plain ids so a task can be retried or replayed from the broker safely.

    Delivery is at least once: the message is acknowledged after the task ends (acks_late), and
    a worker process killed mid-task (OOM, SIGKILL, a deploy) hands it back to the queue
    (reject_on_worker_lost), so task bodies must be idempotent, as a finished run is left alone.
    Database and broker errors retry with exponential backoff; every task has a time limit
    (soft: the body can record its failure; hard: the process is replaced)."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = RETRYABLE_ERRORS
    retry_backoff = 2  # seconds, doubling: 2, 4, 8, 16, 32 …
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 5
    soft_time_limit = 30 * 60
    time_limit = 35 * 60

    def __call__(self, district_id: int, *args, **kwargs):
        district = District.objects.get(pk=district_id)
        with district_scope(district):
            # Task.__call__ would record the District object as the request's arguments, and a
            # retry re-sends those: keep the plain id there, give the body the district.
            _task_stack.push(self)
            self.push_request(args=(district_id, *args), kwargs=kwargs)
            try:
                return self.run(district, *args, **kwargs)
            finally:
                self.pop_request()
                _task_stack.pop()
