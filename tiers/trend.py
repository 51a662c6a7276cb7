"""A student's weekly absence rate as a small server-rendered SVG line chart, with the same
information in words: no script, nothing for the CSP to allow, readable without the picture."""

import dataclasses
import math
from decimal import Decimal
from fractions import Fraction

from django.utils import dateformat, formats
from django.utils.translation import gettext

from .why import pct as why_pct
from .why import short_date

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28  # room for the axis labels


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # "Week of Oct 13: 6.0% (3 of 50 days)"


@dataclasses.dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclasses.dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    points: list[Point]
    line: str  # the polyline's points attribute
    threshold_y: float
    threshold_label: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    summary: str
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM


def pct(value) -> str:
    return why_pct(value)


def trend_chart(snapshots: list, threshold: Fraction) -> TrendChart | None:
    """`snapshots`: WeeklySnapshot rows, oldest first. None when there is nothing to draw."""
    if not snapshots:
        return None
    rates = [Decimal(s.absence_rate) for s in snapshots]
    top = Decimal(max(3, math.ceil(max(rates) * 10))) / 10  # 30%, or the next 10% above the highest week
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(rate) -> float:
        return round(TOP + plot_h * (1 - float(rate) / float(top)), 1)

    step = plot_w / max(len(snapshots) - 1, 1)
    points = [
        Point(
            round(LEFT + index * step, 1), y(rate),
            gettext("Week of %(week)s: %(rate)s (%(missed)s of %(days)s days)") % {
                "week": short_date(s.week_start), "rate": pct(rate), "missed": _days(s.absent_days),
                "days": s.membership_days,
            },
        )
        for index, (s, rate) in enumerate(zip(snapshots, rates))
    ]  # fmt: skip
    y_ticks = [Tick(y(Decimal(tenth) / 10), f"{tenth * 10}%") for tenth in range(int(top * 10) + 1)]
    x_ticks = [
        Tick(point.x, dateformat.format(s.week_start, "M"))
        for point, s, previous in zip(points, snapshots, [None, *snapshots[:-1]])
        if previous is None or previous.week_start.month != s.week_start.month
    ]
    return TrendChart(
        width=WIDTH, height=HEIGHT, points=points, line=" ".join(f"{p.x},{p.y}" for p in points),
        threshold_y=y(threshold), threshold_label=gettext("%(line)s chronic") % {"line": pct(threshold)}, y_ticks=y_ticks, x_ticks=x_ticks,
        summary=_summary(snapshots, rates, threshold),
    )  # fmt: skip


def _days(value) -> str:
    return formats.number_format(Decimal(value).normalize())


def _summary(snapshots, rates, threshold: Fraction) -> str:
    first, last = snapshots[0], snapshots[-1]
    peak_index = max(range(len(rates)), key=lambda i: rates[i])
    over = sum(1 for rate in rates if Fraction(rate) >= threshold)
    text = gettext("%(weeks)s weeks: %(first)s in the week of %(first_week)s, %(last)s in the week of %(last_week)s") % {
        "weeks": len(snapshots), "first": pct(rates[0]), "first_week": short_date(first.week_start),
        "last": pct(rates[-1]), "last_week": short_date(last.week_start),
    }  # fmt: skip
    if len(snapshots) > 2:
        peak = snapshots[peak_index]
        text += gettext("; highest %(rate)s (week of %(week)s)") % {
            "rate": pct(rates[peak_index]), "week": short_date(peak.week_start)
        }  # fmt: skip
    return gettext("%(text)s. At or above the %(line)s chronic line in %(over)s of %(weeks)s weeks.") % {
        "text": text, "line": pct(threshold), "over": over, "weeks": len(snapshots)
    }  # fmt: skip
