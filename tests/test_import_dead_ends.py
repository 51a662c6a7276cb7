"""Import dead ends (issue 10): an unknown school mapped or added and its rows replayed, held
rows discarded with a reason (and counted), reasons in words on pages, CSV and API, and a
school whose attendance stopped arriving shown as stale, not clean."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from districts.models import AuditEvent, Role, School
from imports import services
from imports.models import ImportRun, QuarantinedRow, SchoolAlias, reason_words
from imports.selectors import import_health, unknown_school_list
from students.models import AttendanceRecord

from .factories import AttendanceRecordFactory, CalendarDayFactory, EnrollmentFactory, SchoolFactory, StudentFactory
from .import_support import FIXTURES, _media_in_tmp, run_import  # noqa: F401

CANONICAL = FIXTURES / "canonical"
D = datetime.date


def _url(name, tenant):
    return reverse(f"imports:{name}", kwargs={"district": tenant.district.slug})


@pytest.fixture
def admin(tenant_a, login):
    return login(tenant_a.user(Role.DISTRICT_ADMIN))


@pytest.fixture
def imported(tenant_a):
    return run_import(tenant_a.district, CANONICAL)


def _worker_runs_the_replay(district, response):
    """The page queued a replay and went to its page; run it as the worker would."""
    with scope(district=district):
        run = ImportRun.objects.get(kind=ImportRun.Kind.REPLAY)
        assert response["Location"].endswith(f"/imports/{run.pk}/")
        services.import_run_process(run=run)
        run.refresh_from_db()
        assert run.status == ImportRun.Status.SUCCEEDED


def _held(district, **filters):
    with scope(district=district):
        return list(QuarantinedRow.objects.filter(**filters))


def test_an_unknown_school_mapped_to_a_school_places_its_rows_and_the_next_files(tenant_a, admin, imported):
    with scope(district=tenant_a.district):
        assert unknown_school_list() == [{"sis_id": "ZZ9", "rows": 1, "files": ["attendance.csv"]}]
        maple = School.objects.get(sis_id="MS1")
    page = admin.get(_url("unknown_schools", tenant_a))
    assert b"ZZ9" in page.content and b"Maple Middle" in page.content

    response = admin.post(_url("unknown_schools", tenant_a), {"action": "map", "sis_id": "ZZ9", "school": maple.pk})
    _worker_runs_the_replay(tenant_a.district, response)

    assert response.status_code == 302
    (row,) = _held(tenant_a.district, school_sis_id="ZZ9")
    assert row.resolved and row.resolution == QuarantinedRow.Resolution.REPLAYED
    with scope(district=tenant_a.district):
        assert AttendanceRecord.objects.filter(school=maple, date=D(2025, 9, 3), student__sis_id="S1").exists()
        assert SchoolAlias.objects.get().school == maple
        assert unknown_school_list() == []
        assert AuditEvent.objects.filter(object_type="school_alias", user=tenant_a.user(Role.DISTRICT_ADMIN)).exists()
    # The next file naming ZZ9 is placed at Maple too: nothing held for the school.
    again = run_import(tenant_a.district, CANONICAL)
    assert not _held(tenant_a.district, run=again, reason="unknown_school")


def test_an_unknown_school_can_be_added_from_its_rows(tenant_a, admin, imported):
    response = admin.post(
        _url("unknown_schools", tenant_a), {"action": "create", "sis_id": "ZZ9", "name": "Zinnia Academy"}
    )
    _worker_runs_the_replay(tenant_a.district, response)

    with scope(district=tenant_a.district):
        school = School.objects.get(sis_id="ZZ9")
    assert school.name == "Zinnia Academy"
    # The school is known now; the row waits for its next cause (nobody is enrolled there yet).
    (row,) = _held(tenant_a.district, school_sis_id="ZZ9")
    assert row.reason == "outside_enrollment" and not row.resolved
    assert not _held(tenant_a.district, reason="unknown_school")


def test_mapping_refuses_a_known_id_or_a_nameless_school(tenant_a, admin, imported):
    response = admin.post(_url("unknown_schools", tenant_a), {"action": "create", "sis_id": "ZZ9", "name": " "})
    assert response.status_code == 302
    with scope(district=tenant_a.district):
        assert not School.objects.filter(sis_id="ZZ9").exists()
        maple = School.objects.get(sis_id="MS1")
    admin.post(_url("unknown_schools", tenant_a), {"action": "map", "sis_id": "MS1", "school": maple.pk})
    with scope(district=tenant_a.district):
        assert not SchoolAlias.objects.exists()


def test_another_districts_school_cannot_be_chosen(tenant_a, tenant_b, admin, imported):
    with scope(district=tenant_b.district):
        theirs = SchoolFactory(district=tenant_b.district, sis_id="B1")
    admin.post(_url("unknown_schools", tenant_a), {"action": "map", "sis_id": "ZZ9", "school": theirs.pk})
    with scope(district=tenant_a.district):
        assert not SchoolAlias.objects.exists()


def test_discarding_held_rows_needs_a_reason_and_is_counted(tenant_a, admin, imported):
    open_before = len(_held(tenant_a.district, resolved=False))
    refused = admin.post(_url("held_discard", tenant_a), {"reason": "unknown_code", "note": ""})
    assert refused.status_code == 302
    assert len(_held(tenant_a.district, resolved=False)) == open_before

    admin.post(_url("held_discard", tenant_a), {"reason": "unknown_code", "note": "Test code from the vendor"})

    (row,) = _held(tenant_a.district, reason="unknown_code")
    assert row.resolution == QuarantinedRow.Resolution.DISCARDED and row.discard_reason == "Test code from the vendor"
    assert row.discarded_by == tenant_a.user(Role.DISTRICT_ADMIN)
    assert len(_held(tenant_a.district, resolved=False)) == open_before - 1
    with scope(district=tenant_a.district):
        event = AuditEvent.objects.get(object_type="held_rows", action=AuditEvent.Action.CHANGE)
        report = import_health(today=D(2025, 10, 1))
    assert event.detail["discarded"] == 1 and event.detail["by_reason"] == {"unknown_code": 1}
    assert report["discarded"] == 1
    hs1 = next(row for row in report["schools"] if row["school"].sis_id == "HS1")
    assert hs1["discarded"] == 1 and "unknown_code" not in hs1["held"]
    assert b"Held rows discarded" in admin.get(_url("health", tenant_a)).content


def test_reasons_read_in_words_on_the_pages_csv_and_api(tenant_a, admin, imported):
    held = admin.get(_url("held", tenant_a)).content.decode()
    health = admin.get(_url("health", tenant_a)).content.decode()
    for page in (held, health):
        assert "Unknown school" in page and ">unknown_school<" not in page

    response = admin.get(_url("held_csv", tenant_a) + "?reason=unknown_school")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["Reason code"], row["Reason"]) for row in rows] == [("unknown_school", "Unknown school")]
    with scope(district=tenant_a.district):
        assert AuditEvent.objects.filter(object_type="held_rows", action=AuditEvent.Action.EXPORT).exists()

    api = admin.get(
        reverse("api:held_row_list", kwargs={"district": tenant_a.district.slug}), {"reason": "unknown_school"}
    )
    (item,) = api.json()["results"]
    assert item["reason"] == "unknown_school" and item["reason_words"] == "Unknown school"

    reader = tenant_a.user(Role.DISTRICT_ADMIN)
    reader.language = "es"
    reader.save()
    with translation.override("es"):
        words = reason_words("unknown_school")
    assert words != "Unknown school"
    assert words in admin.get(_url("held", tenant_a)).content.decode()
    spanish_api = admin.get(reverse("api:held_row_list", kwargs={"district": tenant_a.district.slug}))
    assert words in {item["reason_words"] for item in spanish_api.json()["results"]}


def test_a_school_whose_attendance_stopped_is_stale_not_clean(tenant_a):
    district = tenant_a.district
    with scope(district=district):
        school = SchoolFactory(district=district, sis_id="ST1")
        student = StudentFactory(district=district)
        EnrollmentFactory(student=student, school=school, entry_date=D(2025, 9, 1))
        # Mon 1 Sep to Fri 12 Sep are school days; attendance arrived up to Thursday 4 Sep.
        for day in range(1, 13):
            if D(2025, 9, day).weekday() < 5:
                CalendarDayFactory(school=school, date=D(2025, 9, day))
        for day in (1, 2, 3, 4):
            AttendanceRecordFactory(
                student=student, school=school, date=D(2025, 9, day), code="T", category="tardy", minutes_absent=5
            )

        def row(today):
            return next(r for r in import_health(today=today)["schools"] if r["school"].pk == school.pk)

        assert row(D(2025, 9, 5))["school_days_since"] == 0  # Thursday's arrived; Friday's comes tonight
        assert row(D(2025, 9, 9))["school_days_since"] == 2 and not row(D(2025, 9, 9))["stale"]
        late = row(D(2025, 9, 10))
        assert late["school_days_since"] == 3 and late["stale"] and not late["clean"]
        assert row(D(2025, 9, 30))["school_days_since"] == 6  # 5, 8-12 Sep


def test_the_stale_school_says_so_on_the_page(tenant_a, admin, imported):
    page = admin.get(_url("health", tenant_a)).content.decode()
    assert "stale" in page and "school days ago" in page


def test_a_school_with_no_attendance_says_so_on_the_page(tenant_a, admin, imported):
    with scope(district=tenant_a.district):
        SchoolFactory(district=tenant_a.district, sis_id="S0", name="Silent Middle")
    page = admin.get(_url("health", tenant_a)).content.decode()
    heading = page[page.index("Silent Middle") :].split("</th>", 1)[0]
    assert "no attendance received" in heading and "clean" not in heading


def test_future_and_outside_year_rows_are_held_already(tenant_a, imported):
    """Verified, not redone: placing holds them (tests/test_import_dates.py covers each)."""
    from imports.models import QuarantineReason

    assert {QuarantineReason.FUTURE_DATE, QuarantineReason.OUTSIDE_SCHOOL_YEAR} <= set(QuarantineReason.values)


def test_another_districts_admin_gets_404_on_the_new_routes(tenant_a, tenant_b, login, imported):
    outsider = login(tenant_b.user(Role.DISTRICT_ADMIN))
    for name in ("unknown_schools", "held_csv"):
        assert outsider.get(_url(name, tenant_a)).status_code == 404
    assert outsider.post(_url("held_discard", tenant_a), {"note": "x"}).status_code == 404
    assert (
        outsider.post(_url("unknown_schools", tenant_a), {"action": "create", "sis_id": "ZZ9", "name": "X"}).status_code
        == 404
    )
    api = reverse("api:held_row_list", kwargs={"district": tenant_a.district.slug})
    assert outsider.get(api).status_code == 404
    assert len(_held(tenant_a.district, resolved=False)) > 0
    with scope(district=tenant_a.district):
        assert not School.objects.filter(sis_id="ZZ9").exists()


def test_staff_who_are_not_admins_get_403(tenant_a, login, imported):
    lead = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    assert lead.get(_url("unknown_schools", tenant_a)).status_code == 403
    assert lead.post(_url("held_discard", tenant_a), {"note": "x"}).status_code == 403


def test_the_demo_leaves_rows_to_map_and_one_discarded(db, settings, tmp_path):
    """seed_demo's imports chapter: an unknown school (HMS) and an unknown code held, a test
    building's row discarded with its reason, and replaying it all twice changes nothing."""
    import io

    from django.core.management import call_command

    from districts.models import District

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for _ in range(2):
        call_command("seed_demo", "--today", "2025-11-19", "--students", "120", "--roster-only", stdout=io.StringIO())
        district = District.objects.get(slug="demo")
        from imports.demo import play_imports
        from students.demo_calendar import demo_calendar

        with scope(district=district):
            counts = play_imports(district=district, today=D(2025, 11, 19), calendar=demo_calendar(D(2025, 11, 19)))
    assert counts == {"held import rows": 5, "held rows discarded": 1}
    with scope(district=district):
        assert unknown_school_list()[0]["sis_id"] == "HMS"
        assert QuarantinedRow.objects.filter(resolution=QuarantinedRow.Resolution.DISCARDED).count() == 1
        assert ImportRun.objects.count() == 1
