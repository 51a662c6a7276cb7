"""The Celery app for tests/test_worker_recovery.py's real worker: the project's own app, with a
pause in the middle of a run's first attempt (inside the transaction that writes its results),
long enough for the test to SIGKILL the worker process that is running it.

The pause announces itself by writing its process id to PAUSE_DIR/paused; later attempts (the
redelivered message, in a fresh process) find the file and run straight through.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from attendnc.celery import app  # noqa: F401 (celery -A tests.kill_worker finds it here)

PAUSE_DIR = Path(os.environ.get("ATTENDNC_TEST_PAUSE_DIR", "/nonexistent"))


def _pause_once() -> None:
    marker = PAUSE_DIR / "paused"
    if marker.exists():
        return
    marker.write_text(str(os.getpid()))
    time.sleep(120)  # killed long before this ends


def _after(function):
    def paused(*args, **kwargs):
        result = function(*args, **kwargs)
        _pause_once()
        return result

    return paused


@worker_process_init.connect
def _pause_mid_run(**kwargs):
    from imports import pipeline
    from tiers import services

    for name in ("_write_results", "results_write"):  # whichever writes a run's results
        if hasattr(services, name):
            setattr(services, name, _after(getattr(services, name)))  # written, not yet committed
    pipeline.load_entity = _after(pipeline.load_entity)  # the first file loaded, not yet committed
