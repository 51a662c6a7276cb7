"""Issue 14: a CSV file without quotes is read by Arrow's CSV reader (imports.parsing.csvread:
_read_arrow) and columns of few distinct values are typed once per distinct value
(imports.parsing.typing: _distinct). Both must give exactly what the pandas reader and the
row-by-row readers gave: the same frame, the same dtypes, the same rejection naming the same
file, row and column."""

import io

import numpy as np
import pandas as pd
import pytest

from imports.parsing import csvread, typing
from imports.parsing.errors import ImportRejected
from imports.parsing.sources import SourceFile
from imports.schema import ENTITIES, ROW


def _source(data: bytes) -> SourceFile:
    return SourceFile("attendance.csv", "attendance.csv", lambda: io.BytesIO(data))


def _read(data: bytes, usecols=None, *, arrow: bool, monkeypatch=None):
    """('frame', frame, whether Arrow read it) or ('rejected', errors, …)."""
    taken = []
    original = csvread._read_arrow

    def spy(*args):
        frame = original(*args) if arrow else None
        taken.append(frame is not None)
        return frame

    csvread._read_arrow = spy
    try:
        return "frame", csvread.read_csv_text(_source(data), usecols=usecols), taken[0]
    except ImportRejected as error:
        return "rejected", [error_.as_dict() for error_ in error.errors], taken[0] if taken else False
    finally:
        csvread._read_arrow = original


FILES = {
    # name: (bytes, whether Arrow reads it)
    "plain": (b"student_id,school_id,date,code\nS1,MS1,2025-08-26,U\nS2,MS1,2025-08-27,E\n", True),
    "bom, CRLF, no final newline": (b"\xef\xbb\xbfstudent_id,code\r\nS1,U\r\nS2,E", True),
    "carriage returns after the header": (b"student_id,code\nS1,U\rS2,E\r", True),
    "blank lines and blank rows": (b"student_id,code\n\nS1,U\n,\n \t, \nS2,E\n\n\n", True),
    "spaces around values and names": (b" student_id , code\n  S1 ,\tU \n\xc2\xa0S2\xc2\xa0,E\xe2\x80\x83\n", True),
    "text like NA, null and nan stays text": (b"student_id,code\nNA,null\nnan,N/A\n#,None\n", True),
    "non-ASCII and control characters stay as written": (
        b"student_id,code\nJos\xc3\xa9,\x01U\n\xe2\x80\xaeS2,E\n",
        True,
    ),
    "a row with too few values": (b"student_id,school_id,code\nS1,MS1,U\nS2,MS1\n", False),
    "a row with too many values": (b"student_id,code\nS1,U\nS2,E,extra\n", False),
    "quotes": (b'student_id,code\n"S1","U"\nS2,"E, late"\n', False),
    "a quote inside a value": (b'student_id,code\nS"1,U\n', False),
    "not UTF-8": (b"student_id,code\nS1,U\nS2,\xff\n", False),
    "a blank header name": (b"student_id,,code\nS1,x,U\n", False),
    "header only": (b"student_id,code\n", False),
}


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("usecols", [None, ["STUDENT_ID", "code", "absent"]])
def test_arrow_reads_a_file_as_pandas_does(name, usecols):
    data, by_arrow = FILES[name]

    arrow = _read(data, usecols, arrow=True)
    pandas = _read(data, usecols, arrow=False)

    assert arrow[2] is by_arrow
    assert arrow[0] == pandas[0]
    if arrow[0] == "frame":
        pd.testing.assert_frame_equal(arrow[1], pandas[1], check_dtype=True, check_index_type=True)
    else:
        assert arrow[1] == pandas[1]


def test_a_block_boundary_inside_a_row_changes_nothing(monkeypatch):
    """Arrow reads in blocks of bytes; with blocks smaller than a few rows, boundaries fall inside
    rows (held ones and bad ones alike) and blank lines, and the rows and their lines stay whole."""
    lines = ["student_id,school_id,date,code,minutes_absent"]
    for number in range(300):
        lines.append("" if number % 37 == 5 else f"S{number % 41},MS{number % 3},2025-09-{1 + number % 28:02d},U,")
    lines[200] = "S999,MS1,2025-09-01,ZZ, 15 "  # a row that will be held (unknown student and code)
    data = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 97)

    arrow = _read(data, arrow=True)
    pandas = _read(data, arrow=False)

    assert arrow[2] is True
    pd.testing.assert_frame_equal(arrow[1], pandas[1], check_dtype=True)
    held = arrow[1][arrow[1]["student_id"] == "S999"]
    assert held[ROW].tolist() == [201] and held["minutes_absent"].tolist() == ["15"]


def test_a_bad_value_past_a_block_boundary_is_rejected_at_its_line(monkeypatch):
    lines = ["student_id,school_id,date,code,minutes_absent"] + ["S1,MS1,2025-09-02,T,10"] * 50
    lines[41] = "S1,MS1,2025-09-02,T,ten"
    data = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 64)
    text = _read(data, arrow=True)[1]

    with pytest.raises(ImportRejected) as rejected:
        typing.typed_frame("attendance", text, file="attendance.csv")

    assert (rejected.value.errors[0].row, rejected.value.errors[0].column) == (42, "minutes_absent")


READERS = [
    (typing._read_int, "minutes_absent", ["", "10", "10", "7", "x", "10", "1.5", "99999", "-3", "4.0", "", "x"]),
    (typing._read_int, "minutes_absent", ["", "10", "15", "", "4.0", "0", "00", "32767"]),
    (typing._read_int, "minutes_absent", ["5", "5", "40000", "5", "abc"]),
    (typing._read_bool, "homeless", ["Y", "n", "", "TRUE", "Y", "0", "maybe", "Y", "maybe"]),
    (typing._read_bool, "homeless", ["Y", "n", "", "TRUE", "Y", "0", "f", "T"]),
    (typing._read_grade, "grade", ["K", "05", "Grade 3", "KG", "05", "", "PreK", "12", "toolong", "K"]),
    (typing._read_grade, "grade", ["K", "05", "Grade 3", "KG", "05", "", "PK", "-1", "00"]),
    (typing._read_channel, "preferred_channel", ["SMS", "phone", "", "Call", "pigeon", "phone", "pigeon"]),
    (typing._read_channel, "preferred_channel", ["SMS", "phone", "", "Call", "E-mail", "phone"]),
]
FIELDS = {field.name: field for entity in ENTITIES.values() for field in entity.fields}


def _outcome(reader, values, rows, field):
    try:
        result = reader(values, rows, file="f.csv", field=field, fmt="")
    except ImportRejected as error:
        return "rejected", [str(error_) for error_ in error.errors]
    return "read", result


@pytest.mark.parametrize(("reader", "column", "texts"), READERS)
def test_a_column_read_once_per_distinct_value_reads_as_row_by_row(reader, column, texts):
    values = pd.Series(texts * 3, dtype="str", index=pd.RangeIndex(len(texts) * 3) + 10)
    rows = pd.Series(np.arange(len(values)) + 2)
    field = FIELDS[column]

    each_row = _outcome(reader, values, rows, field)
    distinct = _outcome(typing._distinct(reader), values, rows, field)

    assert distinct[0] == each_row[0]
    if each_row[0] == "rejected":
        assert distinct[1] == each_row[1]
    elif isinstance(each_row[1], pd.Series):
        pd.testing.assert_series_equal(distinct[1], each_row[1], check_dtype=True, check_names=False)
    else:
        assert distinct[1].dtype == each_row[1].dtype
        np.testing.assert_array_equal(distinct[1], each_row[1])
