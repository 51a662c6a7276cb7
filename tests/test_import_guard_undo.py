"""The removal guard (an import that would remove a school's worth of rows stops before writing
anything until confirmed) and undo (an import's rows put back exactly as they were, refused over
a later import of the same rows). Issue 9."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from districts.models import AuditEvent, School
from imports import services
from imports.messages import error_text
from imports.models import ImportChange, ImportRun, QuarantinedRow
from imports.undo import undo_blockers
from students.models import (
    AttendanceCode,
    AttendanceRecord,
    CalendarDay,
    Enrollment,
    Guardian,
    PriorYearSummary,
    Student,
)

from .import_support import FIXTURES, _media_in_tmp, build_year, run_import, school_days, write_csv  # noqa: F401
from .import_support import district_state as _state

D = datetime.date
OPEN_DAYS = [day for day, open_ in school_days() if open_]
JOURNALED = [School, Student, Enrollment, CalendarDay, Guardian, PriorYearSummary, AttendanceRecord, AttendanceCode]


@pytest.fixture
def year(tenant_a, tmp_path):
    return build_year(tenant_a.district, tmp_path)


def every_row(district) -> dict[str, list[tuple]]:
    """Every row of every table an import writes, every column, ids included; and the open
    held rows."""
    with scope(district=district):
        rows = {model._meta.label: sorted(model.objects.values_list()) for model in JOURNALED}
        rows["held"] = sorted(QuarantinedRow.objects.filter(resolved=False).values_list("pk", "reason"))
        return rows


def attendance_of(district, tmp_path, name, rows):
    return run_import(district, write_csv(tmp_path / name, "attendance.csv", "student_id,school_id,date,code", rows))


def _ms1_keeping(days):
    """MS1's attendance for the whole year, with S1 present every day and S2 on every day but `days`."""
    return [("S1", "MS1", day, "P") for day in OPEN_DAYS] + [("S2", "MS1", day, "U") for day in days]


# --- the removal guard ----------------------------------------------------------------------


def test_an_import_that_would_wipe_a_schools_year_stops_before_writing_anything(year, tmp_path):
    before = every_row(year)

    run = attendance_of(year, tmp_path, "wipe", _ms1_keeping(OPEN_DAYS[:3]))

    assert run.status == ImportRun.Status.CONFIRM
    assert every_row(year) == before, "nothing was written"
    with scope(district=year):
        assert not ImportChange.objects.filter(run=run).exists() and not QuarantinedRow.objects.filter(run=run).exists()
    (entry,) = run.removals
    removed = 2 * len(OPEN_DAYS) - 3
    assert entry == {
        "entity": "attendance",
        "label": "Attendance",
        "school_id": entry["school_id"],
        "school": "Maple Middle (MS1)",
        "removed": removed,
        "covered": 2 * len(OPEN_DAYS),
        "over": True,
    }


def test_confirming_lets_the_same_import_remove_what_it_said(year, tmp_path):
    stopped = attendance_of(year, tmp_path, "wipe", _ms1_keeping(OPEN_DAYS[:3]))

    with scope(district=year):
        services.import_run_confirm(run=stopped)
        run = services.import_run_process(run=ImportRun.objects.get(pk=stopped.pk))

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.removed == 2 * len(OPEN_DAYS) - 3
    assert run.removals[0]["over"] is True  # kept on the run: what was removed, with confirmation
    assert {row for row in _state(year)["attendance"] if row[0] == "S2"} == {
        ("S2", "MS1", day, "U") for day in OPEN_DAYS[:3]
    }
    with scope(district=year):
        event = AuditEvent.objects.get(object_type="import_run", object_id=str(run.pk))
        assert "confirmed" in event.object_label


def test_a_days_corrections_pass_the_guard(year, tmp_path):
    run = attendance_of(year, tmp_path, "day", [("S1", "MS1", OPEN_DAYS[10], "E")])

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.removed == 2


def test_many_removals_that_are_a_small_share_of_what_the_file_covers_pass(tenant_a, tmp_path):
    """51 removals of 1,500 rows covered (3.4%) pass; 80 of 1,500 (5.3%) stop."""
    district = tenant_a.district
    students = [f"T{number:02}" for number in range(30)]
    folder = tmp_path / "big"
    write_csv(folder, "schools.csv", "school_id,name", [("BIG", "Big Middle")])
    write_csv(folder, "students.csv", "student_id,first_name,last_name", [(s, "First", s) for s in students])
    write_csv(
        folder, "enrollments.csv", "student_id,school_id,entry_date", [(s, "BIG", "2025-08-25") for s in students]
    )
    write_csv(folder, "calendar.csv", "school_id,date", [("", day) for day in OPEN_DAYS[:50]])
    everything = [(s, "BIG", day, "U") for s in students for day in OPEN_DAYS[:50]]
    write_csv(folder, "attendance.csv", "student_id,school_id,date,code", everything)
    assert run_import(district, folder).added > 1500

    small = attendance_of(district, tmp_path, "small", everything[51:])
    stopped = attendance_of(district, tmp_path, "large", everything[51 + 80 :])

    assert (small.status, small.removed) == (ImportRun.Status.SUCCEEDED, 51)
    assert small.removals[0]["over"] is False
    assert stopped.status == ImportRun.Status.CONFIRM
    assert (stopped.removals[0]["removed"], stopped.removals[0]["covered"]) == (80, 1449)


def test_the_guard_counts_per_school_and_per_kind_of_data(year, tmp_path):
    """An enrollments file naming every student with a stay at one school only: the other
    school's stays would all go."""
    rows = [(s, "MS1", "2025-08-25") for s in ["S1", "S2", "S3", "S4", "S5", "S6"]]
    run = run_import(year, write_csv(tmp_path / "e", "enrollments.csv", "student_id,school_id,entry_date", rows))

    assert run.status == ImportRun.Status.SUCCEEDED  # three stays at HS1 is not a school's worth of rows
    assert {(entry["school"], entry["removed"]) for entry in run.removals} >= {("Oak High (HS1)", 3)}


def test_the_command_line_stops_and_says_what_it_would_remove_until_allowed(year, tmp_path):
    folder = write_csv(tmp_path / "wipe", "attendance.csv", "student_id,school_id,date,code", _ms1_keeping([]))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="--allow-removals"):
        call_command("import_sis", "--district", "alpha", "--format", "csv", str(folder), stdout=out, stderr=err)
    assert (
        f"would remove {2 * len(OPEN_DAYS)} attendance of {2 * len(OPEN_DAYS)} it covers at Maple Middle (MS1)"
        in err.getvalue()
    )
    assert len(_state(year)["attendance"]) == 3 * len(OPEN_DAYS)

    call_command("import_sis", "--district", "alpha", "--format", "csv", "--allow-removals", str(folder), stdout=out)
    assert f"removed {2 * len(OPEN_DAYS)} attendance" in out.getvalue()
    assert len(_state(year)["attendance"]) == len(OPEN_DAYS)


# --- undo -----------------------------------------------------------------------------------


def _messy_correction(tmp_path):
    """Adds a student and a code, changes an enrollment, a guardian and records, removes records
    (a confirmed school-day wipe), holds rows and supersedes none."""
    folder = tmp_path / "messy"
    write_csv(
        folder, "students.csv", "student_id,first_name,last_name", [("S7", "Gia", "New"), ("S2", "Benjamin", "Okafor")]
    )
    write_csv(
        folder,
        "enrollments.csv",
        "student_id,school_id,entry_date,exit_date",
        [("S7", "HS1", "2025-09-01", ""), ("S6", "MS1", "2025-08-25", "2025-09-22"), ("S6", "HS1", "2025-09-22", "")],
    )
    write_csv(folder, "guardians.csv", "student_id,name,phone", [("S1", "Parent S1", "919-555-0199")])
    write_csv(
        folder,
        "attendance.csv",
        "student_id,school_id,date,code",
        [("S1", "MS1", day, "E") for day in OPEN_DAYS[:10]]
        + [("S7", "HS1", "2025-09-02", "U"), ("S1", "MS1", "2025-09-13", "U")],
    )
    return folder


def test_undo_puts_every_row_back_exactly_as_it_was(year, tmp_path):
    before = every_row(year)
    run = run_import(year, _messy_correction(tmp_path), allow_removals=True)
    assert run.status == ImportRun.Status.SUCCEEDED and run.journaled
    assert run.added and run.changed and run.removed and run.rows_quarantined
    assert every_row(year) != before

    with scope(district=year):
        undo = services.import_run_process(run=services.import_run_undo_create(run=run))

    assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
    assert every_row(year) == before, "row for row, ids included"
    run.refresh_from_db()
    assert run.undone_by_id == undo.pk
    with scope(district=year):
        assert not QuarantinedRow.objects.filter(run=run, resolved=False).exists()
    assert undo.entity_counts["attendance"]["removed"] == run.entity_counts["attendance"]["added"]

    # The restored rows keep their ids: the same correction imports again cleanly afterwards
    # (on PostgreSQL, no id collides with the sequences), and lands where it landed the first time.
    after_first = every_row(year)
    again = run_import(year, _messy_correction(tmp_path), allow_removals=True)
    assert again.status == ImportRun.Status.SUCCEEDED, again.errors
    assert (again.added, again.changed, again.removed) == (run.added, run.changed, run.removed)
    assert every_row(year) != after_first


def test_undo_of_a_first_import_leaves_an_empty_district_and_the_code_map_it_found(tenant_a):
    before = every_row(tenant_a.district)
    run = run_import(tenant_a.district, FIXTURES / "canonical")

    with scope(district=tenant_a.district):
        undo = services.import_run_process(run=services.import_run_undo_create(run=run))

    assert undo.status == ImportRun.Status.SUCCEEDED, undo.errors
    assert every_row(tenant_a.district) == before


def test_undo_of_a_replay_holds_its_rows_again(tenant_a):
    from .import_support import replay

    run_import(tenant_a.district, FIXTURES / "canonical")
    with scope(district=tenant_a.district):
        AttendanceCode.objects.create(district=tenant_a.district, code="X", category="absent_excused")
    before = every_row(tenant_a.district)
    replayed = replay(tenant_a.district)
    assert replayed.entity_counts["attendance"]["resolved"] == 1

    with scope(district=tenant_a.district):
        undo = services.import_run_process(run=services.import_run_undo_create(run=replayed))

    assert undo.status == ImportRun.Status.SUCCEEDED
    assert every_row(tenant_a.district) == before


def test_undo_is_refused_over_a_later_import_of_the_same_rows_and_says_which(year, tmp_path):
    first = attendance_of(year, tmp_path, "first", [("S1", "MS1", OPEN_DAYS[5], "E")])
    later = attendance_of(year, tmp_path, "later", [("S1", "MS1", OPEN_DAYS[5], "T")])

    with scope(district=year):
        run = ImportRun.objects.get(pk=first.pk)
        blockers = undo_blockers(run)
        assert len(blockers) == 1 and f"Import #{later.pk}" in blockers[0] and f"undo #{later.pk} first" in blockers[0]
        with pytest.raises(services.ValidationError):
            services.import_run_undo_create(run=run)
        # Newest first: undo the later one, and the first becomes undoable.
        services.import_run_process(run=services.import_run_undo_create(run=ImportRun.objects.get(pk=later.pk)))
        assert undo_blockers(ImportRun.objects.get(pk=first.pk)) == []


def test_a_later_import_of_other_rows_does_not_block_an_undo(year, tmp_path):
    before = _state(year)
    first = attendance_of(year, tmp_path, "first", [("S1", "MS1", OPEN_DAYS[5], "E")])
    attendance_of(year, tmp_path, "later", [("S4", "HS1", OPEN_DAYS[20], "E")])

    with scope(district=year):
        undo = services.import_run_process(run=services.import_run_undo_create(run=first))

    assert undo.status == ImportRun.Status.SUCCEEDED
    after = _state(year)["attendance"]
    assert after - before["attendance"] == {("S4", "HS1", OPEN_DAYS[20], "E")}  # the later import stays


def test_an_undo_refused_at_run_time_writes_nothing(year, tmp_path):
    """The undo was asked for, then an import of the same rows landed before the worker ran it."""
    first = attendance_of(year, tmp_path, "first", [("S1", "MS1", OPEN_DAYS[5], "E")])
    with scope(district=year):
        undo = services.import_run_undo_create(run=first)
    attendance_of(year, tmp_path, "later", [("S1", "MS1", OPEN_DAYS[5], "T")])
    before = every_row(year)

    with scope(district=year):
        undo = services.import_run_process(run=undo)

    assert undo.status == ImportRun.Status.REJECTED
    assert "first" in error_text(undo.errors[0])
    assert every_row(year) == before


def test_undo_is_refused_when_rows_elsewhere_refer_to_students_it_added(year, tmp_path):
    folder = tmp_path / "new"
    write_csv(folder, "students.csv", "student_id,first_name,last_name", [("S7", "Gia", "New")])
    added = run_import(year, folder)
    write_csv(tmp_path / "stay", "enrollments.csv", "student_id,school_id,entry_date", [("S7", "MS1", "2025-09-01")])
    run_import(year, tmp_path / "stay")

    with scope(district=year):
        blockers = undo_blockers(ImportRun.objects.get(pk=added.pk))

    assert blockers == ["1 enrollment now refers to students this import added, and would be lost."]


def test_an_import_from_before_undo_existed_says_it_cannot_be_undone(year):
    with scope(district=year):
        old = ImportRun.objects.create(district=year, status=ImportRun.Status.SUCCEEDED, original_name="old.zip")
        assert "cannot be undone" in undo_blockers(old)[0]


def test_undo_is_audit_logged_with_who_asked(year, tmp_path, tenant_a):
    run = attendance_of(year, tmp_path, "one", [("S1", "MS1", OPEN_DAYS[5], "E")])
    admin = tenant_a.user("district_admin")

    with scope(district=year):
        undo = services.import_run_undo_create(run=run, user=admin)
        event = AuditEvent.objects.get(object_type="import_run", object_id=str(run.pk))

    assert (event.user, event.action) == (admin, AuditEvent.Action.CHANGE)
    assert event.detail["undo_run"] == undo.pk


# --- the pages and the API ------------------------------------------------------------------


def _wipe_upload(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    folder = write_csv(tmp_path / "upload", "attendance.csv", "student_id,school_id,date,code", _ms1_keeping([]))
    return SimpleUploadedFile("attendance.csv", (folder / "attendance.csv").read_bytes(), content_type="text/csv")


def _run_url(name, district, run):
    from django.urls import reverse

    return reverse(f"imports:{name}", kwargs={"district": district.slug, "import_run_id": run.pk})


def test_the_browser_shows_what_would_be_removed_per_school_and_confirms(
    year, tmp_path, tenant_a, login, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    admin = login(tenant_a.user("district_admin"))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("imports:index", kwargs={"district": "alpha"}), {"format": "csv", "files": _wipe_upload(tmp_path)}
        )
    with scope(district=year):
        run = ImportRun.objects.latest("pk")
    assert run.status == ImportRun.Status.CONFIRM

    page = admin.get(_run_url("run_detail", year, run)).content.decode()
    assert "This import stopped before writing anything" in page
    assert "Maple Middle (MS1)" in page and f">{2 * len(OPEN_DAYS)}<" in page
    assert "Import and remove these rows" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_run_url("run_confirm", year, run))

    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.removed) == (ImportRun.Status.SUCCEEDED, 2 * len(OPEN_DAYS))
    assert "What it removed, by school" in admin.get(_run_url("run_detail", year, run)).content.decode()


def test_the_run_page_undoes_an_import_and_says_so(year, tmp_path, tenant_a, login, django_capture_on_commit_callbacks):
    before = every_row(year)
    run = attendance_of(year, tmp_path, "one", [("S1", "MS1", OPEN_DAYS[5], "E")])
    admin = login(tenant_a.user("district_admin"))
    page = admin.get(_run_url("run_detail", year, run)).content.decode()
    assert f"Undo import #{run.pk}" in page and "the 1 rows it added are deleted" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_run_url("run_undo", year, run))

    with scope(district=year):
        undo = ImportRun.objects.get(undoes=run)
    assert response["Location"] == _run_url("run_detail", year, undo)
    assert undo.status == ImportRun.Status.SUCCEEDED
    assert every_row(year) == before
    assert "undone by" in admin.get(_run_url("run_detail", year, run)).content.decode()
    assert f"undoes import #{run.pk}" in admin.get(response["Location"]).content.decode()


def test_the_run_page_says_why_an_import_cannot_be_undone(year, tmp_path, tenant_a, login):
    first = attendance_of(year, tmp_path, "first", [("S1", "MS1", OPEN_DAYS[5], "E")])
    later = attendance_of(year, tmp_path, "later", [("S1", "MS1", OPEN_DAYS[5], "T")])
    admin = login(tenant_a.user("district_admin"))

    page = admin.get(_run_url("run_detail", year, first)).content.decode()
    refused = admin.post(_run_url("run_undo", year, first), follow=True).content.decode()

    assert "It cannot be undone now" in page and f"undo #{later.pk} first" in page
    assert f"Undo import #{first.pk}" not in page
    assert f"undo #{later.pk} first" in refused
    with scope(district=year):
        assert not ImportRun.objects.filter(kind=ImportRun.Kind.UNDO).exists()


def test_the_api_takes_allow_removals(year, tmp_path, tenant_a, client, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from .api_tokens import token_for

    url = reverse("api:import_list", kwargs={"district": "alpha"})
    headers = {"Authorization": f"Token {token_for(tenant_a.user('district_admin'))}"}
    with django_capture_on_commit_callbacks(execute=True):
        stopped = client.post(url, {"format": "csv", "files": [_wipe_upload(tmp_path)]}, headers=headers).json()
    with django_capture_on_commit_callbacks(execute=True):
        allowed = client.post(
            url, {"format": "csv", "files": [_wipe_upload(tmp_path)], "allow_removals": "true"}, headers=headers
        ).json()

    detail = reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": stopped["id"]})
    stopped = client.get(detail, headers=headers).json()
    assert stopped["status"] == "confirm" and stopped["removals"][0]["school"] == "Maple Middle (MS1)"
    detail = reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": allowed["id"]})
    assert client.get(detail, headers=headers).json()["status"] == "succeeded"
