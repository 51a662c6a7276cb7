"""Follow-through per school (issue 12) on a hand-built fortnight of huddles, flags and
contacts, every figure worked out by hand in the comments; then the page and its CSV."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from cases import services as case_services
from districts.models import Role
from districts.selectors import district_access_get
from outreach.models import Huddle, HuddleRow, Section
from outreach.services import huddle_attendance_record, outreach_action_create
from pulse.follow_through import follow_through_report

from .outreach_support import flag, lead, membership, student_at, weekday_calendar

START = datetime.date(2025, 11, 3)  # a Monday
TODAY = datetime.date(2025, 11, 21)  # Friday of the third week; this week starts Nov 17
CLOSED_WEEK = [datetime.date(2025, 11, d) for d in range(10, 15)]  # the other school's fall break


def _huddle(tenant, school, week_start, *, rows=(), held_by=None):
    huddle = Huddle.objects.create(
        district=tenant.district,
        school=school,
        week_start=week_start,
        generated_at=datetime.datetime(2025, 11, 1, tzinfo=datetime.UTC),
    )
    for student, discussed in rows:
        HuddleRow.objects.create(
            district=tenant.district, huddle=huddle, student=student, section=Section.NEW, discussed=discussed
        )
    if held_by is not None:
        huddle_attendance_record(huddle=huddle, members=[held_by], by=held_by)
    return huddle


def _contact(student, by, day, method="call", reached=True):
    outreach_action_create(student=student, author=by, attempt_date=day, method=method, reached=reached)


@pytest.fixture
def fortnight(tenant_a):
    """School A: weeks of Nov 3 (held, 2 of 2 discussed), Nov 10 (generated, not held, 0 of 1),
    Nov 17 (this week, held: 1 of 2 discussed). Other school: Nov 3 held; its Nov 10 week closed.
    Tier 2 triggers (deadline 3 school days):
      s1 A Nov 3, due Nov 6: check-in Nov 4 (not a family contact), call reached Nov 5 → on time, 2 days
      s2 A Nov 4, due Nov 7: call unanswered Nov 5, text reached Nov 10 → late, 6 days
      s3 A Nov 6, due Nov 11: nothing → counted, not on time
      s4 A Nov 20, due Nov 25: nothing yet → not counted (inside its deadline)
      s5 A Oct 20 (before the period) and Nov 10, due Nov 13: home visit Nov 12 → on time, 2 days
      s6 other Nov 7, due Nov 19 (the closed week does not count): call Nov 18 → on time, 11 days
    """
    district, school, other = tenant_a.district, tenant_a.school, tenant_a.other_school
    with scope(district=district):
        weekday_calendar(school)
        weekday_calendar(other, closed=CLOSED_WEEK)
        by = lead(tenant_a)
        s = {n: student_at(school) for n in range(1, 6)}
        s[6] = student_at(other)
        for n, day in [(1, 3), (2, 4), (3, 6), (4, 20), (5, 10), (6, 7)]:
            flag(s[n], first_met=datetime.date(2025, 11, day))
        flag(s[5], "t2_at_risk_rate", first_met=datetime.date(2025, 10, 20))
        flag(s[3], "t3_severe_rate", first_met=datetime.date(2025, 11, 6))  # a Tier 3 flag is not a Tier 2 trigger
        _contact(s[1], by, datetime.date(2025, 11, 4), method="student_check_in")
        _contact(s[1], by, datetime.date(2025, 11, 5))
        _contact(s[2], by, datetime.date(2025, 11, 5), reached=False)
        _contact(s[2], by, datetime.date(2025, 11, 10), method="text")
        _contact(s[5], by, datetime.date(2025, 11, 12), method="home_visit")
        _contact(s[6], by, datetime.date(2025, 11, 18))
        _huddle(tenant_a, school, START, rows=[(s[1], True), (s[2], True)], held_by=by)
        _huddle(tenant_a, school, datetime.date(2025, 11, 10), rows=[(s[5], False)])
        _huddle(tenant_a, school, datetime.date(2025, 11, 17), rows=[(s[3], True), (s[4], False)])
        _huddle(tenant_a, other, START, held_by=membership(tenant_a, Role.DISTRICT_STAFF))
        counselor = membership(tenant_a, Role.COUNSELOR)
        partner = case_services.partner_create(
            district=district, name="Clinic", services=["physical_health"], expected_response_days=10
        )
        case = case_services.case_open(student=s[3], by=counselor, opened_on=datetime.date(2025, 11, 7))
        case_services.referral_create(
            case=case, by=counselor, partner=partner, service="physical_health", referred_on=datetime.date(2025, 11, 10)
        )
    return s


def _report(tenant):
    with scope(district=tenant.district):
        access = district_access_get(district=tenant.district, user=tenant.user(Role.DISTRICT_STAFF))
        return follow_through_report(access=access, district=tenant.district, today=TODAY, start=START)


def test_huddles_held_on_schedule_and_rows_discussed(tenant_a, fortnight):
    report = _report(tenant_a)
    by_school = {row.school.pk: row for row in report.schools}
    a, other = by_school[tenant_a.school.pk], by_school[tenant_a.other_school.pk]
    assert (a.huddles_held, a.school_weeks, a.huddles_share) == (2, 3, Decimal("0.6667"))
    assert (a.rows_discussed, a.rows, a.discussed_share) == (3, 5, Decimal("0.6"))
    assert (other.huddles_held, other.school_weeks) == (1, 1), "the closed week is not a school week"
    assert (report.district.huddles_held, report.district.school_weeks) == (3, 4)


def test_first_family_contact_within_the_deadline(tenant_a, fortnight):
    report = _report(tenant_a)
    by_school = {row.school.pk: row for row in report.schools}
    a, other = by_school[tenant_a.school.pk], by_school[tenant_a.other_school.pk]
    assert report.contact_deadline_days == 3
    assert (a.contacts_on_time, a.triggers_due, a.contact_share) == (2, 4, Decimal("0.5"))
    assert sorted(a.days_to_contact) == [2, 2, 6] and a.median_days_to_contact == Decimal("2")
    assert (other.contacts_on_time, other.triggers_due, other.median_days_to_contact) == (1, 1, Decimal("11"))
    assert report.district.median_days_to_contact == Decimal("4")  # median of 2, 2, 6, 11


def test_a_district_deadline_changes_who_was_on_time(tenant_a, fortnight):
    tenant_a.district.settings = {"tier2_deadlines": {"family_contact_days": 5}}
    tenant_a.district.save()
    a = next(row for row in _report(tenant_a).schools if row.school == tenant_a.school)
    assert (a.contacts_on_time, a.triggers_due) == (3, 4), "s2's text on Nov 10 is within 5 school days of Nov 4"


def test_tier3_timers_come_from_the_cases_selectors_per_school(tenant_a, fortnight):
    report = _report(tenant_a)
    by_school = {row.school.pk: row for row in report.schools}
    assert by_school[tenant_a.school.pk].cases.referrals_made == 1
    assert by_school[tenant_a.other_school.pk].cases.referrals_made == 0
    assert report.district.cases.cases_opened == 1


def test_the_page_and_its_csv_for_district_staff(tenant_a, fortnight, login):
    client = login(tenant_a.user(Role.DISTRICT_STAFF))
    url = reverse("pulse_review:follow_through", kwargs={"district": tenant_a.district.slug})
    page = client.get(url)
    assert page.status_code == 200 and tenant_a.school.name in page.content.decode()
    csv = b"".join(client.get(url.replace("follow-through/", "follow-through.csv")).streaming_content).decode()
    lines = csv.strip().splitlines()
    assert lines[0].startswith("school,school_weeks,huddles_held")
    assert len(lines) == 1 + 2 + 1  # header, two schools, the district


def test_the_page_is_for_district_roles_and_404_elsewhere(tenant_a, tenant_b, login):
    url = reverse("pulse_review:follow_through", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url).status_code == 403
    assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(url).status_code == 404
    csv = reverse("pulse_review:follow_through_csv", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_b.user(Role.DISTRICT_ADMIN)).get(csv).status_code == 404
