"""The import pages: upload → progress → outcome, the code map and replay, column mappings,
held rows and import health, for district admins only."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from districts.models import Role
from imports.models import ColumnMapping, ImportRun, QuarantinedRow
from students.models import AttendanceCode, AttendanceRecord

from .import_support import FIXTURES, _media_in_tmp, run_import  # noqa: F401

CANONICAL = FIXTURES / "canonical"


def _url(name, tenant, **kwargs):
    return reverse(f"imports:{name}", kwargs={"district": tenant.district.slug, **kwargs})


def _zip_upload(folder=CANONICAL, name="export.zip"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in sorted(folder.iterdir()):
            archive.write(item, item.name)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def admin(tenant_a, login):
    return login(tenant_a.user(Role.DISTRICT_ADMIN))


def test_uploading_a_zip_runs_the_import_and_shows_its_outcome(tenant_a, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_url("index", tenant_a), {"format": "csv", "files": _zip_upload()})

    with scope(district=tenant_a.district):
        run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("run_detail", tenant_a, import_run_id=run.pk)
    assert run.status == ImportRun.Status.SUCCEEDED and run.created_by == tenant_a.user(Role.DISTRICT_ADMIN)
    page = admin.get(response["Location"])
    assert page.status_code == 200
    assert b"What each file did" in page.content
    assert b"attendance.csv" in page.content  # the held rows, by file
    assert b"export.zip" in page.content


def test_several_files_upload_as_one_export(tenant_a, admin, django_capture_on_commit_callbacks):
    files = [
        SimpleUploadedFile(item.name, item.read_bytes(), content_type="text/csv")
        for item in sorted(CANONICAL.iterdir())
    ]

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(_url("index", tenant_a), {"format": "csv", "files": files})

    with scope(district=tenant_a.district):
        assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED
        assert AttendanceRecord.objects.count() == 10


def test_the_progress_fragment_is_what_htmx_polls(tenant_a, admin):
    with scope(district=tenant_a.district):
        run = ImportRun.objects.create(
            district=tenant_a.district, status=ImportRun.Status.RUNNING, stage="loading:attendance"
        )

    fragment = admin.get(
        _url("run_detail", tenant_a, import_run_id=run.pk) + "?part=progress", headers={"HX-Request": "true"}
    )

    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<section id="run-progress"')
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert "Loading: Attendance" in html  # the stored stage is a code, read in the viewer's language
    assert "<html" not in html
    assert f'href="{_url("run_detail", tenant_a, import_run_id=run.pk)}"' in html  # the same page without JS


@pytest.mark.parametrize(
    ("stage", "language", "says"),
    [
        ("loading:attendance", "es", "Cargando: Asistencia"),
        ("replaying:prior_year", "en", "Replaying: Prior years"),
        ("reading", "es", "Leyendo los archivos"),
        ("Loading attendance", "es", "Loading attendance"),  # stored as prose before codes: as written
    ],
)
def test_a_running_imports_stage_is_read_in_the_viewers_language(stage, language, says):
    from django.utils import translation

    from imports.messages import stage_text

    with translation.override(language):
        assert stage_text(stage) == says


def test_a_finished_run_stops_polling(tenant_a, admin):
    run = run_import(tenant_a.district, CANONICAL)

    html = admin.get(_url("run_detail", tenant_a, import_run_id=run.pk)).content.decode()

    assert "hx-trigger" not in html
    assert run.sha256 in html


def test_a_rejected_upload_names_file_row_and_column(tenant_a, admin, django_capture_on_commit_callbacks, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "students.csv").write_text("student_id,birth_date\nS1,31/31/2001\n")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_url("index", tenant_a), {"format": "csv", "files": _zip_upload(broken)})

    page = admin.get(response["Location"]).content.decode()
    assert "rejected and nothing was written" in page
    assert "students.csv, row 2, column “birth_date”" in page


def test_an_sis_upload_needs_a_mapping(tenant_a, admin):
    response = admin.post(_url("index", tenant_a), {"format": "sis_csv", "files": _zip_upload()})

    assert response.status_code == 400
    assert b"needs a column mapping" in response.content


def test_mapping_an_unknown_code_then_replaying(tenant_a, admin, django_capture_on_commit_callbacks):
    run_import(tenant_a.district, CANONICAL)
    page = admin.get(_url("codes", tenant_a)).content.decode()
    assert "<code>X</code>" in page and "Map X" in page

    mapped = admin.post(
        _url("codes", tenant_a), {"code": "X", "category": "absent_excused", "description": "Field trip"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        replayed = admin.post(_url("replay", tenant_a))

    assert mapped.status_code == 302
    with scope(district=tenant_a.district):
        assert AttendanceCode.objects.get(code="X").description == "Field trip"
        replay_run = ImportRun.objects.get(kind=ImportRun.Kind.REPLAY)
        assert replay_run.status == ImportRun.Status.SUCCEEDED
        assert AttendanceRecord.objects.filter(code="X").exists()
        assert not QuarantinedRow.objects.filter(resolved=False, reason="unknown_code").exists()
    assert replayed["Location"] == _url("run_detail", tenant_a, import_run_id=replay_run.pk)


def test_mapping_a_code_twice_is_refused(tenant_a, admin):
    run_import(tenant_a.district, CANONICAL)

    response = admin.post(_url("codes", tenant_a), {"code": "U", "category": "absent_excused"}, follow=True)

    assert b"already mapped" in response.content


def test_held_rows_filter_in_place(tenant_a, admin):
    run_import(tenant_a.district, CANONICAL)

    full = admin.get(_url("held", tenant_a))
    partial = admin.get(_url("held", tenant_a) + "?reason=unknown_student", headers={"HX-Request": "true"})

    assert b"10 held rows" in full.content
    assert b"1 held row" in partial.content and b"<html" not in partial.content
    assert b"student_id=S99" in partial.content


def test_creating_a_column_mapping_from_a_sample_file(tenant_a, admin):
    created = admin.post(_url("mappings", tenant_a), {"name": "PowerSchool nightly"})
    with scope(district=tenant_a.district):
        mapping = ColumnMapping.objects.get()
    assert created["Location"] == _url("mapping_edit", tenant_a, mapping_id=mapping.pk)
    sample = SimpleUploadedFile("att.csv", (FIXTURES / "powerschool" / "ps_attendance_export.csv").read_bytes())

    admin.post(_url("mapping_edit", tenant_a, mapping_id=mapping.pk), {"entity": "attendance", "sample": sample})
    page = admin.get(_url("mapping_edit", tenant_a, mapping_id=mapping.pk)).content.decode()
    saved = admin.post(
        _url("mapping_edit", tenant_a, mapping_id=mapping.pk),
        {
            "attendance__student_id": "Student_Number", "attendance__school_id": "SchoolID",
            "attendance__date": "Att_Date", "attendance__date__format": "mdy",
            "attendance__code": "Attendance_CodeID", "attendance__minutes_absent": "Att_Minutes",
        },
    )  # fmt: skip

    assert "Att_Date" in page and "Teacher" in page
    assert saved.status_code == 302
    mapping.refresh_from_db()
    assert mapping.columns["attendance"]["date"] == "Att_Date"
    assert mapping.formats == {"attendance": {"date": "mdy"}}


def test_a_mapping_missing_a_required_field_is_refused(tenant_a, admin):
    with scope(district=tenant_a.district):
        mapping = ColumnMapping.objects.create(district=tenant_a.district, name="m", headers={"attendance": ["a", "b"]})

    response = admin.post(_url("mapping_edit", tenant_a, mapping_id=mapping.pk), {"attendance__student_id": "a"})

    assert response.status_code == 400
    assert b"need this field" in response.content


def test_health_page_lists_what_needs_attention(tenant_a, admin):
    run_import(tenant_a.district, CANONICAL)

    page = admin.get(_url("health", tenant_a)).content.decode()

    assert "Some schools need attention" in page
    assert "<code>X</code> (1)" in page
    assert "<code>ZZ9</code>" in page  # held for a school we do not know


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_import_pages_are_for_district_admins(tenant_a, login, role):
    client = login(tenant_a.user(role))

    assert client.get(_url("index", tenant_a)).status_code == 403
    assert client.get(_url("health", tenant_a)).status_code == 403


def test_another_districts_import_is_not_found(tenant_a, tenant_b, login):
    run = run_import(tenant_a.district, CANONICAL)
    client = login(tenant_b.user(Role.DISTRICT_ADMIN))

    response = client.get(
        reverse("imports:run_detail", kwargs={"district": tenant_b.district.slug, "import_run_id": run.pk})
    )

    assert response.status_code == 404


def test_admins_see_the_imports_link(tenant_a, admin):
    page = admin.get(reverse("districts:people", kwargs={"district": tenant_a.district.slug})).content.decode()

    assert f'href="{_url("index", tenant_a)}"' in page
