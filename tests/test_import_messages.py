"""An import's errors and held rows are stored as a code and its figures and read in the reader's
language (issue 13): a Spanish-speaking admin reads Spanish naming the file, row and field; an
English one reads the same rows in English; rows stored as English prose before keep showing."""

import csv
import io

from django.urls import reverse
from django_scopes import scope

from districts.models import Role
from imports.messages import error_line, error_text, said
from imports.models import ImportRun, QuarantinedRow

from .import_support import FIXTURES, _media_in_tmp, run_import, write_csv  # noqa: F401

CANONICAL = FIXTURES / "canonical"
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


def _rejected_run(district, tmp_path) -> ImportRun:
    folder = write_csv(
        tmp_path / "bad",
        "students.csv",
        "student_id,first_name,last_name,grade",
        [("S1", "Ana", "Ruiz", "7"), ("S2", "Beto", "Lopez", "banana")],
    )
    run = run_import(district, folder)
    assert run.status == ImportRun.Status.REJECTED
    return run


def test_a_rejected_file_is_stored_as_a_code_with_the_files_value(tenant_a, tmp_path):
    run = _rejected_run(tenant_a.district, tmp_path)

    assert run.errors == [
        {"file": "students.csv", "row": 3, "column": "grade", "code": "not_grade", "params": {"value": "banana"}}
    ]
    assert error_text(run.errors[0]) == "'banana' is not a grade"


def test_a_rejected_file_reads_in_spanish_naming_file_row_and_field(tenant_a, tmp_path, login):
    run = _rejected_run(tenant_a.district, tmp_path)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": run.pk})

    spanish = client.get(url, **SPANISH).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "students.csv, fila 3, columna «grade»: &#x27;banana&#x27; no es un grado" in spanish
    assert "is not a grade" not in spanish
    assert "students.csv, row 3, column “grade”: &#x27;banana&#x27; is not a grade" in english


def test_the_api_gives_the_code_and_the_message_in_the_readers_language(tenant_a, tmp_path, login):
    run = _rejected_run(tenant_a.district, tmp_path)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": run.pk})

    error = client.get(url, **SPANISH).json()["errors"][0]

    assert error == {
        "file": "students.csv",
        "row": 3,
        "column": "grade",
        "code": "not_grade",
        "params": {"value": "banana"},
        "message": "'banana' no es un grado",
    }


def test_held_rows_read_in_spanish_on_the_page_the_csv_and_the_api(tenant_a, login):
    run_import(tenant_a.district, CANONICAL)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    with scope(district=tenant_a.district):
        unknown = QuarantinedRow.objects.get(reason="unknown_student")
    assert unknown.message == "" and unknown.message_params == {"student": "S99", "names": True}

    page = client.get(reverse("imports:held", kwargs={"district": "alpha"}), **SPANISH).content.decode()
    assert "No hay ningún estudiante con el número del SIS &#x27;S99&#x27;." in page
    assert "El código &#x27;X&#x27; no está en la tabla de códigos del distrito." in page
    assert "El 6 de septiembre de 2025 no es día de clases en esta escuela." in page
    assert "No student with SIS id" not in page

    response = client.get(reverse("imports:held_csv", kwargs={"district": "alpha"}), **SPANISH)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    by_row = {(row[1], row[2]): row for row in rows[1:]}
    assert "No hay ninguna escuela con el número del SIS 'ZZ9'." in by_row[("attendance.csv", "22")]

    api = client.get(reverse("api:held_row_list", kwargs={"district": "alpha"}), **SPANISH).json()
    held = next(row for row in api["results"] if row["row_number"] == 21)
    assert (held["file_name"], held["field"], held["reason"]) == ("attendance.csv", "student_id", "unknown_student")
    assert held["message"] == "No hay ningún estudiante con el número del SIS 'S99'."
    assert held["message_params"] == {"student": "S99", "names": True}


def test_rows_and_errors_stored_as_prose_before_codes_still_show(tenant_a, tmp_path, login):
    run = _rejected_run(tenant_a.district, tmp_path)
    with scope(district=tenant_a.district):
        run.errors = [{"file": "old.csv", "row": 4, "column": "date", "message": "'x' is not a date"}]
        run.save(update_fields=["errors"])
        old = QuarantinedRow(reason="unknown_code", message="Code 'Q' is not in the district's code map.")
    assert old.message_text == "Code 'Q' is not in the district's code map."
    assert error_line(run.errors[0]) == "old.csv, row 4, column “date”: 'x' is not a date"

    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": run.pk})
    assert "&#x27;x&#x27; is not a date" in client.get(url, **SPANISH).content.decode()


def test_a_message_reads_as_english_text_where_text_is_expected():
    message = said("too_many_values", count=5, width=4)

    assert message == "5 values in a row under a header of 4 columns"
    assert (message.code, message.params) == ("too_many_values", {"count": 5, "width": 4})


def test_notes_on_what_was_skipped_read_in_the_readers_language(tenant_a, tmp_path, login):
    folder = write_csv(tmp_path / "upload", "schools.csv", "school_id,name", [("MS1", "Maple Middle")])
    (folder / "readme.pdf").write_bytes(b"%PDF")
    run = run_import(tenant_a.district, folder)
    assert run.notes == [{"code": "note_not_data", "params": {"path": "readme.pdf"}}]

    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": run.pk})
    assert "Se omitió readme.pdf: no es un archivo CSV, JSON ni XML." in client.get(url, **SPANISH).content.decode()
    api = reverse("api:import_detail", kwargs={"district": "alpha", "import_run_id": run.pk})
    assert client.get(api, HTTP_ACCEPT_LANGUAGE="en").json()["notes"] == [
        "Skipped readme.pdf: not a CSV, JSON or XML file."
    ]


def test_the_import_pages_forms_and_statuses_read_in_spanish(tenant_a, tmp_path, login):
    run = _rejected_run(tenant_a.district, tmp_path)
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))

    index = client.get(reverse("imports:index", kwargs={"district": "alpha"}), **SPANISH).content.decode()
    for spanish in ("Formato", "CSV canónico", "Exportación CSV del SIS (correspondencia de columnas)", "Archivos"):
        assert spanish in index, spanish
    assert "Canonical CSV" not in index and "Browser upload" not in index
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": run.pk})
    assert "Rechazada" in client.get(url, **SPANISH).content.decode()

    done = run_import(tenant_a.district, CANONICAL)
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": done.pk})
    page = client.get(url, **SPANISH).content.decode()
    for spanish in ("Años anteriores", "Padres, madres o tutores", "Inscripciones", "Asistencia"):
        assert f'<th scope="row">{spanish}</th>' in page, spanish
    assert "Prior_year" not in page
