"""The case's progress chart: the weekly attendance rate, the goal line and a marker at the
plan's start and at each intervention's start, as a server-rendered SVG (nothing for the CSP
to allow) with the same figures as a table beside it for screen readers and for print."""

import dataclasses
import datetime
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .progress import rate_decimal

WIDTH, HEIGHT = 680, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 30


@dataclasses.dataclass(frozen=True)
class Week:
    start: datetime.date
    days: int
    absent: Fraction
    markers: list[str]

    @property
    def rate(self) -> Decimal | None:
        return rate_decimal(Fraction(self.days - self.absent, self.days)) if self.days else None

    @property
    def absent_days(self) -> Decimal:
        return Decimal(self.absent.numerator) / Decimal(self.absent.denominator)


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclasses.dataclass(frozen=True)
class Marker:
    x: float
    label: str
    short: str


@dataclasses.dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclasses.dataclass(frozen=True)
class ProgressChart:
    weeks: list[Week]
    points: list[Point]
    line: str
    goal_y: float | None
    goal_label: str
    markers: list[Marker]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _pct(value) -> str:
    return f"{float(value) * 100:.0f}%"


def progress_chart(
    *,
    days: dict[datetime.date, Fraction],
    goal_rate: Decimal | None,
    plan_started_on: datetime.date | None,
    interventions: list,
) -> ProgressChart | None:
    """`days`: membership day → absent weight (cases.progress.attendance_days); None without any."""
    if not days:
        return None
    by_week: dict[datetime.date, list[Fraction]] = defaultdict(list)
    for day, weight in days.items():
        by_week[_monday(day)].append(weight)
    events = _events(plan_started_on, interventions)
    weeks = [
        Week(start, len(weights), sum(weights, Fraction(0)), events.get(start, []))
        for start, weights in sorted(by_week.items())
    ]
    rates = [week.rate for week in weeks]
    low = min([*rates, goal_rate or Decimal(1)])
    floor = Decimal(min(5, math.floor(low * 10))) / 10  # 50%, or lower when a week or the goal is
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = weeks[0].start, weeks[-1].start
    span = max((last - first).days, 1)

    def x(day: datetime.date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1) if len(weeks) > 1 else LEFT + plot_w / 2

    def y(rate) -> float:
        return round(TOP + plot_h * float((Decimal(1) - Decimal(rate)) / (Decimal(1) - floor)), 1)

    points = [Point(x(w.start), y(w.rate), _week_label(w)) for w in weeks]
    markers = [
        Marker(x(_monday(on)), label, short)
        for on, label, short in _marker_list(plan_started_on, interventions)
        if first <= _monday(on) <= last
    ]
    tenths = range(int(floor * 10), 11)
    return ProgressChart(
        weeks=weeks, points=points, line=" ".join(f"{p.x},{p.y}" for p in points),
        goal_y=y(goal_rate) if goal_rate is not None else None,
        goal_label=_("Goal %(rate)s") % {"rate": _pct(goal_rate)} if goal_rate is not None else "",
        markers=markers, y_ticks=[Tick(y(Decimal(t) / 10), f"{t * 10}%") for t in tenths],
        x_ticks=_month_ticks(weeks, x), summary=_summary(weeks, goal_rate, plan_started_on),
    )  # fmt: skip


def _marker_list(plan_started_on, interventions) -> list[tuple[datetime.date, str, str]]:
    found = []
    if plan_started_on:
        found.append(
            (plan_started_on, _("Plan started %(date)s") % {"date": date_format(plan_started_on, "M j, Y")}, "P")
        )
    for number, intervention in enumerate(interventions, start=1):
        label = _("%(kind)s from %(date)s") % {
            "kind": intervention.get_kind_display(),
            "date": date_format(intervention.start_date, "M j, Y"),
        }
        found.append((intervention.start_date, label, str(number)))
    return found


def _events(plan_started_on, interventions) -> dict[datetime.date, list[str]]:
    events: dict[datetime.date, list[str]] = defaultdict(list)
    for on, label, _short in _marker_list(plan_started_on, interventions):
        events[_monday(on)].append(label)
    return events


def _week_label(week: Week) -> str:
    return _("Week of %(date)s: %(rate)s attended (%(absent)s of %(days)s days missed)") % {
        "date": date_format(week.start, "M j"),
        "rate": f"{float(week.rate) * 100:.1f}%",
        "absent": f"{week.absent_days.normalize():f}",
        "days": week.days,
    }


def _month_ticks(weeks: list[Week], x) -> list[Tick]:
    ticks, previous = [], None
    for week in weeks:
        if previous is None or week.start.month != previous:
            ticks.append(Tick(x(week.start), date_format(week.start, "M")))
        previous = week.start.month
    return ticks


def _summary(weeks: list[Week], goal_rate, plan_started_on) -> str:
    after = [w for w in weeks if plan_started_on and w.start >= _monday(plan_started_on)]
    text = _("%(count)s weeks, from %(first)s (%(first_rate)s attended) to %(last)s (%(last_rate)s).") % {
        "count": len(weeks),
        "first": date_format(weeks[0].start, "M j"),
        "first_rate": _pct(weeks[0].rate),
        "last": date_format(weeks[-1].start, "M j"),
        "last_rate": _pct(weeks[-1].rate),
    }
    if goal_rate is not None and after:
        met = sum(1 for w in after if w.rate >= goal_rate)
        text += " " + _("Since the plan started, %(met)s of %(count)s weeks reached the goal of %(goal)s.") % {
            "met": met,
            "count": len(after),
            "goal": _pct(goal_rate),
        }
    return text
