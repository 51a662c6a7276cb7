"""The demo's story after its roster: chapters that apps above students add to `seed_demo`.

The demo must look like a school year run by a working team (metrics computed, huddles held,
contacts logged, cases at different stages, letters sent), yet students may not import the apps
that own that work. So each app registers its chapter here from AppConfig.ready(), and
`seed_demo` plays them in order, inside the demo district's scope, after the roster is built.
Every chapter must be deterministic for the same `today` (seed its own random.Random from it)
and safe to replay: seed_demo rebuilds the district from scratch each run.

Orders in use: tiers 100 (metrics, week by week), imports 150 (last night's held rows), outreach 200 (huddles held, contacts),
outreach 250 (family messages and notices), cases 300 (Tier 3 cases), pulse 400 (support
requests and pulse snapshots).
"""

import dataclasses
import datetime
from collections.abc import Callable

# chapter(district=..., today=..., calendar=...) -> {label: count} for seed_demo's summary.
Chapter = Callable[..., dict[str, int] | None]


@dataclasses.dataclass(frozen=True)
class DemoChapter:
    name: str
    play: Chapter
    order: int


_chapters: dict[str, DemoChapter] = {}


def register_demo_chapter(name: str, play: Chapter, order: int) -> None:
    """Register (or replace: ready() can run more than once) the chapter called `name`."""
    _chapters[name] = DemoChapter(name, play, order)


def demo_chapters() -> list[DemoChapter]:
    return sorted(_chapters.values(), key=lambda chapter: (chapter.order, chapter.name))


def demo_story_play(*, district, today: datetime.date, calendar) -> dict[str, int]:
    """Play every registered chapter in order; returns their summary counts, merged."""
    counts: dict[str, int] = {}
    for chapter in demo_chapters():
        counts.update(chapter.play(district=district, today=today, calendar=calendar) or {})
    return counts
