"""The Tier 2 checklist and its deadlines in school days (outreach.deadlines)."""

import datetime

import pytest
from django_scopes import scope

from outreach.deadlines import Deadlines, SchoolDays, school_days, tier2_checklist, tier2_deadlines
from students.models import CalendarDay

from .outreach_support import THANKSGIVING, weekday_calendar

FRIDAY = datetime.date(2025, 11, 21)


def _action(day, method="call", reached=True, support="", pk=None):
    return {
        "id": pk or day.toordinal(),
        "attempt_date": day,
        "method": method,
        "reached": reached,
        "support_offered": support,
    }


def _weekdays(start, end, closed=()):
    return SchoolDays(
        start + datetime.timedelta(days=n)
        for n in range((end - start).days + 1)
        if (start + datetime.timedelta(days=n)).weekday() < 5 and start + datetime.timedelta(days=n) not in closed
    )


def test_deadlines_count_school_days_and_skip_the_break():
    calendar = _weekdays(datetime.date(2025, 11, 1), datetime.date(2025, 12, 31), THANKSGIVING)
    # Mon 24 and Tue 25 are school days, Wed–Fri is the break: the third school day is Mon Dec 1.
    assert calendar.after(FRIDAY, 3) == datetime.date(2025, 12, 1)
    assert calendar.after(FRIDAY, 1) == datetime.date(2025, 11, 24)


def test_past_the_imported_calendar_weekdays_stand_in():
    calendar = _weekdays(datetime.date(2025, 11, 17), datetime.date(2025, 11, 21))
    assert calendar.after(datetime.date(2025, 11, 20), 3) == datetime.date(2025, 11, 25)
    assert SchoolDays([]).after(FRIDAY, 1) == datetime.date(2025, 11, 24)


def test_the_schools_own_calendar_wins_over_the_district_default(tenant_a, in_scope):
    with in_scope(tenant_a.district):
        school = tenant_a.school
        for day in (datetime.date(2025, 11, 24), datetime.date(2025, 11, 25)):
            CalendarDay.objects.create(district=tenant_a.district, school=None, date=day, instructional=True)
        CalendarDay.objects.create(
            district=tenant_a.district, school=school, date=datetime.date(2025, 11, 24), instructional=False
        )
        days = school_days(school=school, start=datetime.date(2025, 11, 1), end=datetime.date(2025, 11, 30))
    assert days.days == [datetime.date(2025, 11, 25)]


def test_a_district_sets_its_own_deadlines(tenant_a):
    assert tier2_deadlines(tenant_a.district) == Deadlines(3, 3, 10)
    tenant_a.district.settings = {"tier2_deadlines": {"family_contact_days": 2, "follow_up_days": 5}}
    assert tier2_deadlines(tenant_a.district) == Deadlines(
        student_check_in_days=3, family_contact_days=2, follow_up_days=5
    )


def _checklist(actions, today, deadlines=Deadlines()):
    calendar = _weekdays(datetime.date(2025, 11, 1), datetime.date(2025, 12, 31), THANKSGIVING)
    steps = tier2_checklist(since=FRIDAY, actions=actions, calendar=calendar, deadlines=deadlines, today=today)
    return {step.key: (step.state, step.due) for step in steps}


def test_with_nothing_logged_every_step_runs_to_its_deadline():
    steps = _checklist([], today=datetime.date(2025, 12, 1))
    assert steps["family_contact"] == ("due", datetime.date(2025, 12, 1))
    assert steps["check_in"] == ("due", datetime.date(2025, 12, 1))
    assert steps["follow_up"] == ("open", datetime.date(2025, 12, 10))
    assert _checklist([], today=datetime.date(2025, 12, 2))["family_contact"][0] == "overdue"


def test_an_unanswered_call_does_not_count_as_family_contact():
    steps = _checklist([_action(datetime.date(2025, 11, 24), reached=False)], today=datetime.date(2025, 12, 2))
    assert steps["family_contact"][0] == "overdue"


def test_the_sequence_done_in_order_and_on_time():
    actions = [
        _action(datetime.date(2025, 11, 24), method="student_check_in"),
        _action(datetime.date(2025, 11, 25), support="Bus pass"),
        _action(datetime.date(2025, 12, 5)),
    ]
    steps = _checklist(actions, today=datetime.date(2025, 12, 15))
    assert {key: state for key, (state, _) in steps.items()} == {
        "check_in": "done", "family_contact": "done", "support": "done", "follow_up": "done",
    }  # fmt: skip


def test_a_follow_up_needs_a_support_before_it_and_late_steps_say_so():
    actions = [_action(datetime.date(2025, 12, 3)), _action(datetime.date(2025, 12, 4), support="Alarm clock")]
    steps = _checklist(actions, today=datetime.date(2025, 12, 15))
    assert steps["family_contact"][0] == "late"
    assert steps["follow_up"][0] == "overdue", "the contact on Dec 3 came before any support"


def test_actions_before_the_flag_do_not_count():
    steps = _checklist(
        [_action(datetime.date(2025, 11, 10), method="student_check_in")], today=datetime.date(2025, 11, 21)
    )
    assert steps["check_in"][0] == "open"


@pytest.mark.parametrize("days, due", [(1, datetime.date(2025, 11, 24)), (5, datetime.date(2025, 12, 3))])
def test_deadline_numbers_come_from_the_district(days, due):
    steps = _checklist([], today=FRIDAY, deadlines=Deadlines(family_contact_days=days))
    assert steps["family_contact"][1] == due


def test_weekday_calendar_helper_marks_holidays(tenant_a):
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school, closed=THANKSGIVING)
        days = school_days(school=tenant_a.school, start=FRIDAY, end=datetime.date(2025, 12, 5))
    assert days.after(FRIDAY, 3) == datetime.date(2025, 12, 1)
