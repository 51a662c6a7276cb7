"""Each step of a chorded run happens once, however often its message is delivered.

Delivery is at least once (districts.tasks.DistrictTask: acks_late, reject_on_worker_lost; Redis
hands a message nobody acknowledged to a worker again after the visibility timeout, and a retry
sends it again): the run's start, each chunk and the chord's callback may each run twice, even at
the same time on two workers. A second start used to recreate the run's tables under its running
chunks (the night failed); a chunk delivered twice at once could write its rows twice; a second
callback, failing to attach tables already attached, marked the run failed and dropped the
results it had just made current.

PostgreSQL advisory locks keyed on the run make the second delivery wait for the first or step
aside, and what the first left in the database (the run's status and step, the chunk's rows)
tells it what is already done. A worker that dies releases its locks with its connection, so a
redelivery after a crash finds the step undone and does it. SQLite (eager tasks, in one process)
needs no lock.
"""

import contextlib
import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# Keys are single bigints (namespace, chunk, run id packed); the two-int key space of
# imports.pipeline's district lock is separate (PostgreSQL keeps the two forms apart).
START = 72011
CHUNK = 72012
FINISH = 72013


def _key(namespace: int, run_id: int, chunk: int = 0) -> int:
    if not (0 <= chunk < 4096 and 0 < run_id < 2**32):
        raise ValueError(f"No lock key for run {run_id}, chunk {chunk}.")
    return (namespace * 4096 + chunk) * 2**32 + run_id


@contextlib.contextmanager
def alone(namespace: int, run_id: int):
    """Yields whether this delivery holds the run's step (True) or another one does (False):
    held until the block ends, across transactions, never waited for."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _key(namespace, run_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                # The connection is gone (what the block raised is likely why): its session, and
                # the lock with it, ended. Not raised over the block's own error.
                logger.warning("advisory lock %s not released: the connection is gone", key, exc_info=True)


def chunk_in_turn(run_id: int, chunk: int) -> None:
    """Inside the chunk's write transaction: a second delivery of the same chunk waits here until
    the first has committed or rolled back, then sees what it wrote."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(CHUNK, run_id, chunk)])
