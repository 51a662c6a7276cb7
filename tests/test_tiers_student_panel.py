"""The attendance panel tiers adds to the student page: figures with their explanation, the year's
calendar, flags with their why, the weekly trend; few queries; students never imports tiers."""

import ast
import datetime
import re
from fractions import Fraction
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from districts.models import AuditEvent, Role
from students import panels
from tiers import services
from tiers.policy import FRACTIONAL_DAYS, Policy
from tiers.student_calendar import student_calendar
from tiers.trend import trend_chart

from .tiers_data import OCT_31, tiers_year

# Session, user, membership, grants, the student with enrollments, guardians and prior years, the
# audit insert, the attendance records list: the page before the panel.
PAGE_QUERIES = 13  # with the Tier 3 case panel's one query (cases.student_panel) and the outreach panel's two
# (actions, huddle rows), which district admins see since they read every huddle
PANEL_QUERIES = 5  # current metrics (with run and policy), calendar days, records, flags, weekly snapshots


@pytest.fixture
def year(tenant_a, tenant_b):
    tiers_year(tenant_b, prefix="B")
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        services.compute_metrics(district=year.district, as_of=OCT_31)
    return year


def profile(client, student) -> str:
    response = client.get(reverse("students:student_detail", kwargs={"district": "alpha", "student_id": student.pk}))
    assert response.status_code == 200
    return response.content.decode()


def text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_panel_shows_the_figures_with_their_explanation(year, tenant_a, login):
    page = text(profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.monday))
    assert "Figures as of Fri Oct 31, 2025, computed with calculation policy version 1." in page
    assert "18.0% absence rate Moderate" in page
    assert "9 ÷ 50 = 18.00%. Chronically absent: at or above 10.0% with at least 10 school days." in page
    assert "Band: Moderate (10% to under 20%: chronic)" in page
    assert "9: 0 excused, 9 unexcused, 0 out-of-school suspension, 0 partial days" in page
    assert "11 absences left before chronic" in page
    assert f"158 at {year.school.name}, after Oct 31 to the end of its calendar" in page
    assert "if the rate of the last 20 school days (20.0%) continues for the 158 remaining days" in page
    assert (
        "Tier 3: intensive, case-managed support" in page
        and "Chronic two years running (Tier 3, t3_repeat_chronic )" in page
    )


def test_the_panel_explains_partial_days_and_tardies(year, tenant_a, login):
    page = text(profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.partial))
    assert "1: 0 excused, 0 unexcused, 0 out-of-school suspension, 1 partial day missing half the day or more" in page
    assert "Tardy or left early 1 day that did not count as absent" in page
    assert "Thu Oct 9: partial day, counted absent (200 of 360 minutes missed)" in page
    assert "Fri Oct 10: tardy or left early (30 of 360 minutes missed)" in page


def test_the_panel_lists_flags_with_their_why_and_status(year, tenant_a, login):
    page = text(profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.recent))
    assert "Recent absences Tier 2 · t2_recent_absences New Oct 17, 2025 Yes, Oct 31" in page
    assert "3 days absent in the last 20 school days: Oct 14, Oct 15, Oct 16" in page


def test_the_calendar_has_a_text_alternative_for_every_day(year, tenant_a, login):
    page = profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.mover)
    assert (
        '<td class="day day--absent_unexcused"><span aria-hidden="true">U</span><span class="visually-hidden">Mon Sep 15: absent, unexcused</span></td>'
        in page
    )
    assert "Sat Sep 13: no school" in page
    assert "Wed Oct 1: present" in page  # the first day at the new school: the exit date is not a day at the old one
    assert "Wed Oct 15: absent, unexcused" in page
    assert "Thu Jun 11" not in page  # after the school year
    legend = re.search(r'<ul class="legend".*?</ul>', page, re.S).group(0)
    for label in [
        "Present",
        "Absent, excused",
        "Absent, unexcused",
        "Out-of-school suspension",
        "No school",
        "Not enrolled",
    ]:
        assert label in legend


def test_the_trend_chart_is_an_svg_with_a_summary(year, tenant_a, login):
    page = profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.monday)
    svg = re.search(r"<svg class=\"trend__chart\".*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="trend-title trend-desc"' in svg
    assert "style=" not in svg  # the CSP allows no inline styles: classes only
    assert svg.count("<circle") == 10  # ten weeks, backfilled by the first run
    assert "<title>Week of Sep 1: 10.0% (1 of 10 days)</title>" in svg
    assert "At or above the 10.0% chronic line in 9 of 10 weeks." in page


def test_the_profile_page_keeps_its_query_count_small(year, tenant_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    profile(client, year.monday)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as queries:
        profile(client, year.monday)
    assert len(queries) == PAGE_QUERIES + PANEL_QUERIES, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_the_query_count_does_not_grow_with_the_students_history(year, tenant_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    with scope(district=year.district):
        services.compute_metrics(district=year.district, as_of=datetime.date(2026, 3, 6))  # more weeks, flags, days
    profile(client, year.monday)  # warm up (session, caches), as above
    with CaptureQueriesContext(connection) as queries:
        profile(client, year.monday)
    assert len(queries) == PAGE_QUERIES + PANEL_QUERIES, "\n".join(q["sql"][:150] for q in queries.captured_queries)


def test_before_the_first_run_the_panel_says_so(tenant_a, login):
    data = tiers_year(tenant_a)
    page = text(profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), data.monday))
    assert "No figures yet: the district's first nightly run has not finished." in page
    assert "No weekly history yet" in page and "Mon Sep 1: absent, unexcused" in page


def test_viewing_the_profile_still_writes_the_audit_log(year, tenant_a, login):
    profile(login(tenant_a.user(Role.COUNSELOR)), year.monday)
    with scope(district=year.district):
        assert AuditEvent.objects.filter(object_type="student", object_id=str(year.monday.pk)).count() == 1


# --- the panel registry --------------------------------------------------------------------------


def test_panels_render_in_order_and_may_decline(year, tenant_a, login):
    seen = []
    panels.register_student_panel(
        "first", "tiers/student_panel.html", lambda request, student: seen.append("first"), order=0
    )
    panels.register_student_panel(
        "last", "tiers/student_panel.html", lambda request, student: seen.append("last"), order=99
    )
    try:
        page = profile(login(tenant_a.user(Role.DISTRICT_ADMIN)), year.monday)
    finally:
        panels.unregister_student_panel("first")
        panels.unregister_student_panel("last")
    assert seen == ["first", "last"]  # asked in order; both declined (None), so only tiers' panel shows
    assert page.count('id="attendance-heading"') == 1


def test_the_students_app_never_imports_tiers():
    root = Path(__file__).resolve().parent.parent / "students"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in {"tiers", "outreach", "cases"}
            ]
    assert not offenders


# --- the calendar and the chart on their own ------------------------------------------------------


def _calendar(records, *, policy=Policy(), today=datetime.date(2025, 9, 10), enrollments=None):
    days = [
        (None, datetime.date(2025, 9, day), True, 360)
        for day in range(1, 13)
        if datetime.date(2025, 9, day).weekday() < 5
    ]
    days.append((7, datetime.date(2025, 9, 5), False, 360))  # school 7 closed on Friday the 5th
    return student_calendar(
        start=datetime.date(2025, 9, 1), end=datetime.date(2025, 9, 12), today=today, calendar_days=days,
        enrollments=enrollments or [(7, datetime.date(2025, 9, 2), datetime.date(2025, 9, 11))], records=records, policy=policy,
    )  # fmt: skip


def _status(result, day: int) -> str:
    return result.months[0].days[day - 1].status


def test_calendar_days_follow_the_spec_rules():
    result = _calendar(
        [
            (7, datetime.date(2025, 9, 3), "absent_excused", None),
            (7, datetime.date(2025, 9, 3), "tardy", 20),
            (7, datetime.date(2025, 9, 4), "partial_day", 100),
            (7, datetime.date(2025, 9, 4), "early_dismissal", 80),  # 180 of 360 minutes: exactly half
            (7, datetime.date(2025, 9, 8), "suspension_in_school", None),
            (7, datetime.date(2025, 9, 9), "partial_day", None),
        ]
    )
    assert [_status(result, day) for day in range(1, 13)] == [
        "not_enrolled",  # before the entry date
        "present",
        "absent_excused",  # a whole-day absence, whatever the tardy beside it
        "partial_absent",  # 100 + 80 of 360 minutes: exactly half a day
        "no_school",  # the school's own closure beats the district calendar
        "no_school", "no_school",  # the weekend
        "present",  # in-school suspension is present
        "partial",  # a partial day without minutes counts nothing
        "present",  # today
        "not_enrolled", "not_enrolled",  # the exit date is the first day not enrolled
    ]  # fmt: skip
    assert result.months[0].days[8].note == "no minutes recorded"
    assert result.counts == {
        "not_enrolled": 1,
        "present": 3,
        "absent_excused": 1,
        "partial_absent": 1,
        "no_school": 3,
        "partial": 1,
    }
    assert result.absent_days == 2 and result.school_days == 6


def test_calendar_marks_future_days_and_the_inclusive_exit_date():
    inclusive = _calendar([], policy=Policy(exit_date_inclusive=True), today=datetime.date(2025, 9, 9))
    assert _status(inclusive, 10) == "future" and _status(inclusive, 11) == "future"
    assert _status(inclusive, 12) == "not_enrolled"
    assert "Wed Sep 10: still to come" == inclusive.months[0].days[9].description


def test_calendar_under_fractional_counting_shows_the_fraction():
    result = _calendar([(7, datetime.date(2025, 9, 3), "partial_day", 90)], policy=Policy(partial_days=FRACTIONAL_DAYS))
    day = result.months[0].days[2]
    assert day.status == "partial" and day.note == "90 of 360 minutes missed, 0.25 of a day absent"


def test_calendar_with_two_schools_the_same_day_shows_the_weightier_record():
    result = _calendar(
        [(7, datetime.date(2025, 9, 3), "tardy", 10), (8, datetime.date(2025, 9, 3), "absent_unexcused", None)],
        enrollments=[(7, datetime.date(2025, 9, 1), None), (8, datetime.date(2025, 9, 1), None)],
    )
    assert _status(result, 3) == "absent_unexcused"


class Snapshot:
    def __init__(self, week_start, rate, absent, days):
        self.week_start, self.absence_rate, self.absent_days, self.membership_days = week_start, rate, absent, days


def test_trend_chart_scales_to_the_highest_week_and_draws_the_threshold():
    weeks = [
        Snapshot(datetime.date(2025, 9, 1) + datetime.timedelta(weeks=i), rate, i, 10)
        for i, rate in enumerate(["0", "0.2", "0.45"])
    ]
    chart = trend_chart(weeks, Fraction(1, 10))
    assert [tick.label for tick in chart.y_ticks] == ["0%", "10%", "20%", "30%", "40%", "50%"]
    assert chart.points[0].y == chart.bottom_edge and chart.points[-1].x == chart.right_edge
    assert chart.threshold_label == "10.0% chronic"
    assert chart.summary.startswith("3 weeks: 0.0% in the week of Sep 1, 45.0% in the week of Sep 15; highest 45.0%")
    assert trend_chart([], Fraction(1, 10)) is None


def test_the_chart_coordinates_stay_svg_lengths_in_spanish(year, tenant_a, login):
    """Spanish writes 152,0 for 152.0; an SVG attribute holding that is an error in the browser."""
    user = tenant_a.user(Role.DISTRICT_ADMIN)
    user.language = "es"
    user.save(update_fields=["language"])
    svg = re.search(r"<svg class=\"trend__chart\".*?</svg>", profile(login(user), year.monday), re.S).group(0)
    lengths = re.findall(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|r)="([^"]*)"', svg)
    assert lengths and all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in lengths), lengths
