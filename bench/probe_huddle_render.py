"""Probe (not a benchmark with a target): why the huddle page's template renders about 2× slower
inside the request than the same render right after it. Run on demand; prints CPU times.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_huddle2prof .venv/bin/python bench/probe_huddle_render.py

It builds the benchmark's school (bench/bench_huddle.py, a throwaway test database), then, from
inside the view's `render`, renders the same template with the same context: in the request's
own thread, in a new thread (a shallow stack), and in a new thread under as many trivial frames
as the request had. Finding of 2026-12-01: the shallow thread was about 2.5× faster. Cause, found
the next session: the render inside the request sat on an edge of CPython 3.11's frame-stack chunks
(half its CPU time was system time: an mmap and a munmap per call crossing the edge,
python/cpython#142183); attendnc/frame_stack.py now starts every request on a fresh chunk, and the
request's render measures as fast as the others.
"""

import argparse
import datetime
import gc
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.template import engines, loader  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.urls import get_urlconf, set_urlconf  # noqa: E402
from django.utils import timezone, translation  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

import outreach.views  # noqa: E402
from bench.bench_huddle import _build  # noqa: E402
from districts.tenancy import district_scope  # noqa: E402

REPEAT = 5


def main() -> None:
    settings.DEBUG = False
    engines["django"].engine.debug = False
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        options = argparse.Namespace(
            students=800, flagged=150, requests=0, first_huddle=False, agenda=None, gc_freeze=True
        )
        url, user, _ = _build(options)
        gc.collect()
        gc.freeze()
        client = Client()
        client.force_login(user)
        for _ in range(3):
            client.get(url)
        _probe(client, url)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _probe(client, url) -> None:
    results = {}
    render = outreach.views.render

    def renders(name, context, request):
        timings = []
        with district_scope(request.district):
            for _ in range(REPEAT):
                started = time.process_time()
                loader.render_to_string(name, context, request)
                timings.append((time.process_time() - started) * 1000)
        return timings

    def in_thread(depth, name, context, request):
        def nest(n):
            return (
                nest(n - 1)
                if n
                else results.__setitem__(f"new thread, {depth} frames deep", renders(name, context, request))
            )

        def run():
            try:
                nest(depth)
            finally:
                connection.close()  # this thread's own connection, or the test database cannot be dropped

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    def probing_render(request, name, context=None, *args, **kwargs):
        frame, depth = sys._getframe(), 0
        while frame:
            depth, frame = depth + 1, frame.f_back
        print("threads alive during the request:", [t.name for t in threading.enumerate()])
        results[f"request's thread, {depth} frames deep"] = renders(name, context, request)
        with translation.override(None), timezone.override(datetime.UTC), scopes_disabled():
            urlconf = get_urlconf()
            set_urlconf(None)
            try:
                results["request's thread, language, zone, urlconf and scope reset"] = renders(name, context, request)
            finally:
                set_urlconf(urlconf)
        in_thread(0, name, context, request)
        in_thread(depth, name, context, request)
        response = render(request, name, context, *args, **kwargs)
        results["after the request, shallow"] = (name, context, request)
        return response

    outreach.views.render = probing_render
    try:
        client.get(url)
    finally:
        outreach.views.render = render
    results["after the request, shallow"] = renders(*results["after the request, shallow"])
    print(f"load average {os.getloadavg()[0]:.1f}; the huddle page's template, CPU ms over {REPEAT} renders:")
    for label, timings in results.items():
        print(f"  {label:<40} median {statistics.median(timings):6.1f}  min {min(timings):6.1f}")


if __name__ == "__main__":
    main()
