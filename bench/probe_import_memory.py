"""A probe, no target: where an import's peak memory is, stage by stage (issue 14).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/attendnc_imports .venv/bin/python \
        bench/probe_import_memory.py /tmp/attendnc-bench/district-200000 --district bench-import-200000

Runs `manage.py import_sis` in this process (the district is emptied first, as bench_import.py
does) while a thread samples the process's RSS every 20 ms. The import's steps are wrapped to
name the stage the process is in (reading a file's text, typing it, placing, loading, holding
rows), and the probe prints each stage's highest RSS and the RSS it ended at, in the order met.
"""

import argparse
import functools
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.bench_import import fresh_district  # noqa: E402
from imports import pipeline  # noqa: E402
from imports.parsing import canonical  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 1024**2


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        # [stage, peak MiB, MiB at its end], in the order met
        self.segments: list[list] = [["start", rss_mib(), 0.0]]
        self.running = True

    def enter(self, stage: str) -> None:
        value = rss_mib()
        current = self.segments[-1]
        current[1], current[2] = max(current[1], value), value
        self.segments.append([stage, value, 0.0])

    def run(self) -> None:
        while self.running:
            value = rss_mib()
            current = self.segments[-1]
            current[1] = max(current[1], value)
            time.sleep(0.02)


def wrap(sampler: Sampler, owner, name: str, label) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args, **kwargs):
        sampler.enter(label(*args, **kwargs) if callable(label) else label)
        try:
            return original(*args, **kwargs)
        finally:
            sampler.enter("(between)")

    setattr(owner, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--district", required=True)
    args = parser.parse_args()
    fresh_district(args.district)
    sampler = Sampler()
    wrap(sampler, canonical, "_read", lambda source, entity: f"read {entity}")
    wrap(sampler, pipeline, "place", lambda entity, *a, **k: f"place {entity}")
    wrap(sampler, pipeline, "load_entity", lambda district, entity, *a, **k: f"load {entity}")
    wrap(sampler, pipeline, "_record", lambda run, entity, *a, **k: f"hold rows {entity}")
    import imports.parsing.tables as tables

    wrap(sampler, tables, "typed_frame", lambda entity, *a, **k: f"type {entity}")
    sampler.start()
    started = time.perf_counter()
    call_command("import_sis", "--district", args.district, "--format", "csv", args.folder)
    sampler.running = False
    sampler.enter("end")
    print(f"\n{time.perf_counter() - started:.1f}s, load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'stage':<28} {'peak MiB':>9} {'end MiB':>9}")
    for stage, peak, end in sampler.segments:
        print(f"{stage:<28} {peak:>9,.0f} {end:>9,.0f}")
    print(f"peak RSS of the process {max(peak for _, peak, _ in sampler.segments):,.0f} MiB")


if __name__ == "__main__":
    main()
