"""The attendance panel on a student's page (registered in TiersConfig.ready(); students never
imports tiers): the current figures with what they mean, the year's calendar, the flags with
their "why", and the weekly trend. A handful of queries, none per day or per week."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors
from .loading import SchoolYear
from .policy import RULE_LABELS, RULE_TIERS
from .student_calendar import student_calendar
from .trend import trend_chart

BAND_RANGES = {
    "insufficient_days": _("too few school days to judge"),
    "satisfactory": _("under 5%"),
    "at_risk": _("5% to under 10%"),
    "moderate": _("10% to under 20%: chronic"),
    "severe": _("20% to under 30%: chronic"),
    "acute": _("30% or more: chronic"),
}
TIER_MEANINGS = {0: _("universal supports"), 2: _("early intervention"), 3: _("intensive, case-managed support")}


def attendance_panel(*, request, student) -> dict:
    metrics = selectors.student_metrics_get(student=student)
    run = metrics.run if metrics else selectors.current_run()
    policy_row = run.policy if run else selectors.policy_shown(district=request.district)
    policy = policy_row.as_policy()
    today = timezone.localdate()
    year = SchoolYear.containing(request.district, run.as_of if run else today)
    enrollments = [(e.school_id, e.entry_date, e.exit_date) for e in student.enrollments.all()]
    days = student_calendar(
        start=year.start, end=year.end, today=today, enrollments=enrollments, policy=policy,
        calendar_days=selectors.school_calendar_rows(school_ids=[e[0] for e in enrollments], start=year.start, end=year.end),
        records=selectors.student_attendance_rows(student=student, start=year.start, end=year.end),
    )  # fmt: skip
    return {
        "student": student,
        "metrics": metrics,
        "run": run,
        "policy": policy_row,
        "threshold": policy.chronic_threshold,
        "min_days": policy.min_membership_days,
        "recent_window": policy.recent_window,
        "band_range": BAND_RANGES.get(metrics.band, "") if metrics else "",
        "tier_meaning": TIER_MEANINGS.get(metrics.tier, "") if metrics else "",
        "fired": [
            (rule, RULE_LABELS.get(rule, rule), RULE_TIERS.get(rule)) for rule in (metrics.rules if metrics else [])
        ],
        "calendar": days,
        "year": year,
        "today": today,
        "flags": list(selectors.student_flag_list(student=student)),
        "trend": trend_chart(
            list(selectors.student_snapshot_list(student=student, since=year.start)), policy.chronic_threshold
        ),
    }
