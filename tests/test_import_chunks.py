"""A CSV file is read in chunks of rows (imports.parsing.csvread.READ_CHUNK_ROWS, issue 14: a
year of attendance read at once held its values as Python strings). Errors and held rows must
still name the file's own line, whatever chunk it was read in and however many blank lines
came before it; here every chunk is two rows long. Arrow's reader (a file without quotes) reads
in blocks of bytes, here 32, which split rows."""

import numpy as np
import pandas as pd
import pytest
from django_scopes import scope

from imports.models import ImportRun, QuarantinedRow
from imports.parsing import csvread
from imports.parsing.tables import RawLookup, SourceTable
from imports.schema import ROW
from students.models import AttendanceRecord

from .import_support import FIRST_DAY, _media_in_tmp, build_year, run_import  # noqa: F401

ABSENCES = [("S1", "MS1", "2025-08-26", "U"), ("S2", "MS1", "2025-08-27", "E"), ("S4", "HS1", "2025-08-28", "U")]


@pytest.fixture(params=["pandas", "arrow"])
def two_row_chunks(request, monkeypatch):
    """pandas' reader in chunks of two rows, or Arrow's (a file without quotes) in blocks of 32
    bytes, so that block boundaries fall inside rows."""
    if request.param == "pandas":
        monkeypatch.setattr(csvread, "_read_arrow", lambda *args: None)
        monkeypatch.setattr(csvread, "READ_CHUNK_ROWS", 2)
    else:
        monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 32)


def _write(folder, lines):
    folder.mkdir()
    (folder / "attendance.csv").write_text("student_id,school_id,date,code\n" + "\n".join(lines) + "\n")
    return folder


def test_a_value_that_cannot_be_read_names_its_line_past_the_first_chunks(tenant_a, tmp_path, two_row_chunks):
    build_year(tenant_a.district, tmp_path)
    lines = [",".join(row) for row in ABSENCES] + ["", ",,,", "S2,MS1,2025-08-29,U", "S1,MS1,not a date,U"]
    folder = _write(tmp_path / "bad", lines)  # line 1 is the header: the bad date is on line 8

    run = run_import(tenant_a.district, folder)

    assert run.status == ImportRun.Status.REJECTED, run.status
    error = run.errors[0]
    assert (error["file"], error["row"], error["column"]) == ("attendance.csv", 8, "date")


def test_a_held_row_keeps_its_line_and_raw_values_past_the_first_chunks(tenant_a, tmp_path, two_row_chunks):
    build_year(tenant_a.district, tmp_path)
    lines = [",".join(row) for row in ABSENCES] + ["", "", "S2,MS1,2025-08-29,E", " S9 ,MS1,2025-08-29,U"]
    folder = _write(tmp_path / "held", lines)  # the unknown student S9 is on line 8

    run = run_import(tenant_a.district, folder)

    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.entity_counts["attendance"]["read"] == 5
    with scope(district=tenant_a.district):
        held = list(QuarantinedRow.objects.filter(run=run, resolved=False))
        stored = set(AttendanceRecord.objects.filter(date__gte=FIRST_DAY).values_list("student__sis_id", "date"))
    assert [(row.row_number, row.reason, row.field) for row in held] == [(8, "unknown_student", "student_id")]
    assert held[0].raw == {"student_id": "S9", "school_id": "MS1", "date": "2025-08-29", "code": "U"}
    assert ("S2", FIRST_DAY.replace(day=29)) in stored


def test_a_held_rows_raw_values_are_found_by_row_number_in_any_order():
    def table(file, rows):
        text = pd.DataFrame({"student_id": [f"S{row}" for row in rows], ROW: rows})
        return SourceTable("students", file, text), np.array(rows)

    lookup = RawLookup([table("a.csv", [2, 3, 5, 9]), table("b.csv", [7, 2, 4]), table("a.csv", [5, 6])])

    assert lookup.get(("a.csv", 9))[0].raw_row(lookup.get(("a.csv", 9))[1]) == {"student_id": "S9"}
    assert lookup.get(("a.csv", 5))[1] == 0  # a later file of the same name wins, as the dict had it
    assert lookup.get(("b.csv", 4))[1] == 2  # row numbers out of order (not a CSV file's)
    assert lookup.get(("a.csv", 4)) is None and lookup.get(("c.csv", 2)) is None
