"""Bad input rejected where it is, and nothing nameless or invisible let in (issue 9): required
fields for every format, control characters named by file, row and column, bidirectional
overrides stripped from names, the upload limit, the zip-bomb guard and defusedxml."""

import io
import json
import shutil
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse
from django_scopes import scope

from imports import services
from imports.messages import error_text
from imports.models import ImportRun
from students.models import Student

from .import_support import FIXTURES, _media_in_tmp, run_import, write_csv  # noqa: F401

RLO = "\u202e"  # right-to-left override


def _rejected(run):
    assert run.status == ImportRun.Status.REJECTED, run.status
    error = run.errors[0]
    return error["file"], error["row"], error["column"], error_text(error)


def _students(district):
    with scope(district=district):
        return dict(Student.objects.values_list("sis_id", "first_name"))


# --- required fields, in every format ---------------------------------------------------------


def test_a_demographics_file_read_as_students_is_refused_naming_the_missing_column(tenant_a, tmp_path):
    with scope(district=tenant_a.district):
        mapping = services.column_mapping_save(
            district=tenant_a.district,
            name="Students",
            columns={"students": {"student_id": "SIS ID", "first_name": "First Name", "last_name": "Last Name"}},
            formats={},
            headers={},
        )
    folder = write_csv(
        tmp_path / "x", "demographics.csv", "SIS ID,Race,ELL", [(f"S{n}", "White", "Y") for n in range(100)]
    )

    run = run_import(tenant_a.district, folder, format="sis_csv", mapping=mapping)

    file, row, column, message = _rejected(run)
    assert (file, row, column) == ("demographics.csv", 1, "First Name")
    assert "first_name" in message and "does not have" in message
    assert _students(tenant_a.district) == {}


def test_a_student_with_no_name_at_all_rejects_the_file(tenant_a, tmp_path):
    folder = write_csv(
        tmp_path / "s", "students.csv", "student_id,first_name,last_name", [("S1", "Ana", ""), ("S2", "", "")]
    )

    file, row, column, message = _rejected(run_import(tenant_a.district, folder))

    assert (file, row, column) == ("students.csv", 3, "first_name")
    assert "'S2' has neither a first nor a last name" in message


def test_a_students_file_without_names_updates_known_students_and_holds_the_rest(tenant_a, tmp_path):
    run_import(
        tenant_a.district,
        write_csv(tmp_path / "a", "students.csv", "student_id,first_name,last_name", [("S1", "Ana", "Rivera")]),
    )

    run = run_import(
        tenant_a.district, write_csv(tmp_path / "b", "students.csv", "student_id,homeless", [("S1", "Y"), ("S2", "Y")])
    )

    assert (run.changed, run.added, run.rows_quarantined) == (1, 0, 1)
    assert _students(tenant_a.district) == {"S1": "Ana"}
    with scope(district=tenant_a.district):
        held = run.quarantined_rows.get()
        assert Student.objects.get(sis_id="S1").homeless
    assert (held.reason, held.field) == ("unknown_student", "student_id")
    assert held.message_text == "No student with SIS id 'S2'. This file has no names to add them with."


def test_edfi_characteristics_of_a_student_the_export_does_not_carry_are_held(tenant_a, tmp_path):
    folder = tmp_path / "edfi"
    shutil.copytree(FIXTURES / "edfi-json", folder)
    (folder / "students.json").write_text("[]")

    run = run_import(tenant_a.district, folder, format="edfi-json")

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert _students(tenant_a.district) == {}, "no nameless students"
    assert run.entity_counts["students"]["quarantined"] > 0


# --- control characters and bidirectional overrides ------------------------------------------


@pytest.mark.parametrize(
    "value, character",
    [("An\x00a", "U+0000"), ("Ana\x07", "U+0007"), ('"Ana\nMaria"', "U+000A"), ("An\x85a", "U+0085")],
    ids=["NUL", "bell", "line break", "C1 next line"],
)
def test_a_control_character_in_a_value_names_file_row_and_column(tenant_a, tmp_path, value, character):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "students.csv").write_text(f"student_id,first_name,last_name\nS1,Ben,Okafor\nS2,{value},Rivera\n")

    file, row, column, message = _rejected(run_import(tenant_a.district, folder))

    assert (file, row, column) == ("students.csv", 3, "first_name")
    assert character in message
    assert _students(tenant_a.district) == {}


def test_a_control_character_in_a_mapped_export_names_the_files_own_header(tenant_a, tmp_path):
    with scope(district=tenant_a.district):
        mapping = services.column_mapping_save(
            district=tenant_a.district,
            name="PS",
            columns={"students": {"student_id": "Student_Number", "first_name": "First", "last_name": "Last"}},
            formats={},
            headers={},
        )
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "export.csv").write_bytes(b"Student_Number,First,Last\nst1,Al\x00,Ibarra\n")

    assert _rejected(run_import(tenant_a.district, folder, format="sis_csv", mapping=mapping))[:3] == (
        "export.csv",
        2,
        "First",
    )


def test_a_nul_in_an_edfi_json_value_is_rejected(tenant_a, tmp_path):
    folder = tmp_path / "edfi"
    shutil.copytree(FIXTURES / "edfi-json", folder)
    students = json.loads((folder / "students.json").read_text())
    students[0]["firstName"] = "Li\u0000a"
    (folder / "students.json").write_text(json.dumps(students))

    file, row, column, message = _rejected(run_import(tenant_a.district, folder, format="edfi-json"))

    assert (file, row, column) == ("students.json", 1, "first_name") and "U+0000" in message


def test_bidirectional_overrides_are_stripped_from_names_and_refused_in_ids(tenant_a, tmp_path):
    folder = write_csv(
        tmp_path / "b",
        "students.csv",
        "student_id,first_name,last_name",
        [("S1", f"Ana{RLO}evil", "\u2066Rivera\u2069")],
    )
    run_import(tenant_a.district, folder)
    assert _students(tenant_a.district) == {"S1": "Anaevil"}

    folder = write_csv(
        tmp_path / "i", "students.csv", "student_id,first_name,last_name", [(f"S{RLO}2", "Ben", "Okafor")]
    )
    file, row, column, message = _rejected(run_import(tenant_a.district, folder))
    assert (file, row, column) == ("students.csv", 2, "student_id") and "U+202E" in message


def test_names_reach_pages_without_bidirectional_overrides(tenant_a):
    with scope(district=tenant_a.district):
        student = Student.objects.create(
            district=tenant_a.district, sis_id="X1", first_name=f"Ana{RLO}", last_name="Li"
        )

        assert student.full_name == "Ana Li" and str(student) == "Ana Li"
    rendered = Template("{% load student_text %}{{ name|strip_bidi }}").render(
        Context({"name": f"a\u202ab{RLO}c\u2069"})
    )
    assert rendered == "abc"


# --- the upload limit and the zip-bomb guard ---------------------------------------------------


def test_an_upload_over_the_limit_is_refused_by_the_form_and_the_api(tenant_a, login, settings, client):
    from .api_tokens import token_for

    settings.IMPORT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = SimpleUploadedFile("attendance.csv", b"student_id\n" + b"S1\n" * 900_000, content_type="text/csv")
    admin = login(tenant_a.user("district_admin"))

    page = admin.post(reverse("imports:index", kwargs={"district": "alpha"}), {"format": "csv", "files": big})
    assert page.status_code == 400
    assert "The upload is 2.5 MB; imports take at most 2 MB." in page.content.decode()

    big.seek(0)
    response = client.post(
        reverse("api:import_list", kwargs={"district": "alpha"}),
        {"format": "csv", "files": [big]},
        headers={"Authorization": f"Token {token_for(tenant_a.user('district_admin'))}"},
    )
    assert response.status_code == 400 and "imports take at most 2 MB" in response.content.decode()
    with scope(district=tenant_a.district):
        assert not ImportRun.objects.exists()


def test_an_oversized_request_is_refused_before_its_body_is_read(tenant_a, login, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    admin = login(tenant_a.user("district_admin"))

    response = admin.generic(
        "POST", reverse("imports:index", kwargs={"district": "alpha"}), b"x", CONTENT_LENGTH=str(50 * 1024 * 1024)
    )

    assert response.status_code == 413
    assert "imports take at most 1 MB" in response.content.decode()


def _zip(tmp_path, members: dict[str, bytes]):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in members.items():
            bundle.writestr(name, content)
    return archive


def test_a_zip_bomb_is_refused_before_it_is_inflated(tenant_a, tmp_path):
    archive = _zip(tmp_path, {"attendance.csv": b"student_id,school_id,date,code\n" + b"\0" * 50_000_000})

    file, row, column, message = _rejected(run_import(tenant_a.district, archive))

    assert file == "export.zip" and "attendance.csv is compressed" in message and "zip bomb" in message


def test_a_zip_unpacking_past_the_limit_is_refused(tenant_a, tmp_path, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    rows = "".join(f"S{n},MS1,2025-09-0{n % 9 + 1},U\n" for n in range(60_000)).encode()
    archive = _zip(tmp_path, {"attendance.csv": b"student_id,school_id,date,code\n" + rows})

    message = _rejected(run_import(tenant_a.district, archive))[3]

    assert "more than the 1 MB an import reads" in message


def test_a_real_export_zips_well_within_the_ratio(tenant_a, tmp_path):
    folder = FIXTURES / "canonical"
    archive = _zip(tmp_path, {item.name: item.read_bytes() * 1 for item in folder.iterdir()})

    assert run_import(tenant_a.district, archive).status == ImportRun.Status.SUCCEEDED


# --- XML ------------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<InterchangeStudent><Student><StudentUniqueId>&lol3;</StudentUniqueId></Student></InterchangeStudent>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<InterchangeStudent><Student><StudentUniqueId>&secret;</StudentUniqueId></Student></InterchangeStudent>"""


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL], ids=["billion laughs", "external entity"])
def test_xml_with_a_dtd_or_entities_is_refused(tenant_a, tmp_path, content):
    folder = tmp_path / "xml"
    folder.mkdir()
    (folder / "Interchange-Student.xml").write_text(content)

    file, row, column, message = _rejected(run_import(tenant_a.district, folder, format="edfi-xml"))

    assert file == "Interchange-Student.xml" and "an Ed-Fi export never needs" in message
    assert _students(tenant_a.district) == {}


def test_the_command_line_reads_a_zip_through_the_same_guard(tenant_a, tmp_path):
    from django.core.management import CommandError, call_command

    archive = _zip(tmp_path, {"students.csv": b"student_id,first_name,last_name\n" + b" " * 20_000_000})
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_sis", "--district", "alpha", "--format", "csv", str(archive), stdout=io.StringIO(), stderr=err
        )

    assert "zip bomb" in err.getvalue()
