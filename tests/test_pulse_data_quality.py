"""Data quality per school (issue 12), by hand: school A's calendar lists every weekday from
Nov 3 2025 but Nov 12, its last attendance is Nov 13 (today Nov 19: Nov 14, 17 and 18 are
school days since, so it is out of date); the other school's last is Nov 17 (one school day
since: current). A's enrolled student has a guardian with neither phone nor email."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from districts.models import Role
from pulse.data_quality import data_quality_report
from students.models import CalendarDay

from .factories import AttendanceRecordFactory, EnrollmentFactory, GuardianFactory, StudentFactory
from .outreach_support import weekday_calendar

TODAY = datetime.date(2025, 11, 19)


@pytest.fixture
def district_data(tenant_a):
    district = tenant_a.district
    district.school_year_start, district.school_year_end = datetime.date(2025, 11, 3), datetime.date(2026, 6, 5)
    district.save()
    with scope(district=district):
        for school in (tenant_a.school, tenant_a.other_school):
            weekday_calendar(school, start=datetime.date(2025, 11, 3), end=datetime.date(2025, 12, 19))
        CalendarDay.objects.filter(school=tenant_a.school, date=datetime.date(2025, 11, 12)).delete()
        unreachable = StudentFactory(district=district)
        EnrollmentFactory(student=unreachable, school=tenant_a.school, entry_date=datetime.date(2025, 11, 3))
        GuardianFactory(student=unreachable, phone="", email="")
        reachable = StudentFactory(district=district)
        EnrollmentFactory(student=reachable, school=tenant_a.other_school, entry_date=datetime.date(2025, 11, 3))
        GuardianFactory(student=reachable, phone="919-555-0100")
        AttendanceRecordFactory(student=unreachable, school=tenant_a.school, date=datetime.date(2025, 11, 13))
        AttendanceRecordFactory(student=reachable, school=tenant_a.other_school, date=datetime.date(2025, 11, 17))
    return tenant_a


def test_stale_schools_missing_days_and_unreachable_families(district_data):
    tenant = district_data
    with scope(district=tenant.district):
        rows = {row.school.pk: row for row in data_quality_report(district=tenant.district, today=TODAY)}
    a, other = rows[tenant.school.pk], rows[tenant.other_school.pk]
    assert (a.last_attendance, a.school_days_since, a.is_stale) == (datetime.date(2025, 11, 13), 3, True)
    assert (other.school_days_since, other.is_stale) == (1, False)
    assert a.missing_calendar_days == [datetime.date(2025, 11, 12)] and other.missing_calendar_days == []
    assert (a.no_guardian_contact, other.no_guardian_contact) == (1, 0)
    assert a.issues == 3 and other.issues == 0


def test_the_page_links_admins_to_the_fix_and_names_it_for_staff(district_data, login):
    tenant = district_data
    url = reverse("pulse_review:data_quality", kwargs={"district": tenant.district.slug})
    health = reverse("imports:health", kwargs={"district": tenant.district.slug})
    assert f'href="{health}"' in login(tenant.user(Role.DISTRICT_ADMIN)).get(url).content.decode()
    staff_page = login(tenant.user(Role.DISTRICT_STAFF)).get(url).content.decode()
    assert f'href="{health}"' not in staff_page and "a district admin fixes this" in staff_page
    csv = b"".join(login(tenant.user(Role.DISTRICT_STAFF)).get(url.replace("data-quality/", "data-quality.csv"))
                   .streaming_content).decode().splitlines()  # fmt: skip
    assert csv[0].startswith("school,last_attendance") and len(csv) == 3


def test_data_quality_is_404_for_another_district(tenant_a, tenant_b, login):
    for name in ("pulse_review:data_quality", "pulse_review:data_quality_csv"):
        url = reverse(name, kwargs={"district": tenant_a.district.slug})
        assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(url).status_code == 404
    url = reverse("pulse_review:data_quality", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url).status_code == 403


def test_families_whose_language_has_no_template_are_counted_with_the_fix(district_data, login):
    tenant = district_data
    with scope(district=tenant.district):
        student = StudentFactory(district=tenant.district)
        GuardianFactory(student=student, language="Vietnamese")
        GuardianFactory(student=student, language="vie")
        GuardianFactory(student=student, language="Spanish")  # a shipped template: no gap
    url = reverse("pulse_review:data_quality", kwargs={"district": tenant.district.slug})
    fix = reverse("outreach:messages_home", kwargs={"district": tenant.district.slug}) + "#lines-heading"

    page = login(tenant.user(Role.DISTRICT_ADMIN)).get(url).content.decode()
    assert '<span class="stat">2</span> guardians who read a language the family messages have no template for' in page
    assert "(vi: 2)" in page and f'href="{fix}"' in page
    spanish = login(tenant.user(Role.DISTRICT_STAFF)).get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "(vi: 2)" in spanish and f'href="{fix}"' not in spanish
