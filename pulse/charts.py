"""The pulse pages' charts as server-rendered SVG geometry: no script, nothing for the
Content-Security-Policy to allow, and every chart has its data table beside it.

Coordinates are plain floats; templates write them with the `svg_number` filter so a Spanish
reader's decimal comma never reaches an SVG attribute.
"""

import dataclasses
import math
from fractions import Fraction

from django.utils import dateformat

from .board import Week
from .figures import SEVERITY_COLUMNS, GroupRow

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 30


@dataclasses.dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclasses.dataclass(frozen=True)
class Series:
    key: str  # "this_year" or "last_year": the CSS class of its line
    points: str  # the polyline's points attribute, "x,y x,y"
    dots: list[tuple[float, float]]


@dataclasses.dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right_edge: int
    bottom_edge: int
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def trend_chart(this_year: list[Week], last_year: list[Week]) -> LineChart | None:
    """The district's chronic rate week by week, this year against last year's same weeks."""
    rates = [float(week.chronic_rate) for week in [*this_year, *last_year] if week.chronic_rate is not None]
    if not rates:
        return None
    top = max(1, math.ceil(max(rates) * 20)) / 20  # the next 5% above the highest week
    weeks = max(len(this_year), len(last_year))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(weeks - 1, 1)

    def x(number: int) -> float:
        return round(LEFT + (number - 1) * step, 1)

    def y(rate: float) -> float:
        return round(TOP + plot_h * (1 - rate / top), 1)

    series = []
    for key, line in [("last_year", last_year), ("this_year", this_year)]:
        dots = [(x(week.number), y(float(week.chronic_rate))) for week in line if week.chronic_rate is not None]
        if dots:
            series.append(Series(key, " ".join(f"{px},{py}" for px, py in dots), dots))
    steps = round(top * 20)
    y_ticks = [Tick(y(i / 20), f"{i * 5}%") for i in range(0, steps + 1, 1 if steps <= 6 else 2)]
    months = this_year or last_year
    x_ticks = [
        Tick(x(week.number), dateformat.format(week.week_start, "M"))
        for week, previous in zip(months, [None, *months[:-1]])
        if previous is None or previous.week_start.month != week.week_start.month
    ]
    return LineChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, series, y_ticks, x_ticks)


@dataclasses.dataclass(frozen=True)
class Segment:
    band: str
    x: float
    width: float


def band_bar(row: GroupRow, *, width: int = 120) -> list[Segment]:
    """A row's at-risk, moderate, severe and acute students as segments of one bar whose full
    width is all the group's students (the rest, satisfactory, stays blank)."""
    if not row.students:
        return []
    segments, x = [], 0.0
    for band in SEVERITY_COLUMNS:
        share = Fraction(row.bands[band], row.students)
        if share:
            segments.append(Segment(band, round(x, 1), round(float(share) * width, 1)))
            x += float(share) * width
    return segments
