"""Read one district's school year into the engine's frames (tiers.engine_io).

Bulk SQL through `district_frame` (every query filters on the district id; COPY on
PostgreSQL) rather than ORM objects: at 200,000 students the records alone are millions of rows.
"""

import dataclasses
import datetime
import io

import pandas as pd
from django.db import connection

from districts.models import District
from districts.tenancy import district_fetchall, district_frame

from .engine_io import EngineInput


@dataclasses.dataclass(frozen=True)
class SchoolYear:
    start: datetime.date
    end: datetime.date

    @classmethod
    def containing(cls, district: District, day: datetime.date) -> "SchoolYear":
        """The district's configured year, or else July 1 – June 30 around the day."""
        if district.school_year_start and district.school_year_end:
            return cls(district.school_year_start, district.school_year_end)
        first_year = day.year if day.month >= 7 else day.year - 1
        return cls(datetime.date(first_year, 7, 1), datetime.date(first_year + 1, 6, 30))


# `instructional` as 1/0: COPY's CSV writes booleans as t/f, and pandas reads "f" as a true string.
CALENDAR_SQL = """
    SELECT school_id, date, CASE WHEN instructional THEN 1 ELSE 0 END AS instructional, minutes FROM students_calendarday
    WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(end)s
"""
SCHOOLS_SQL = "SELECT id FROM districts_school WHERE district_id = %(district_id)s"
# A chunk of students (tiers.chunks): those whose id mod `chunks` is `chunk`; one chunk is all.
IN_CHUNK = " AND ({id} %% %(chunks)s) = %(chunk)s"
ENROLLMENTS_SQL = """
    SELECT student_id, school_id, entry_date, exit_date FROM students_enrollment
    WHERE district_id = %(district_id)s AND entry_date <= %(end)s
      AND (exit_date IS NULL OR exit_date >= %(start)s)
""" + IN_CHUNK.format(id="student_id")
RECORDS_SQL = """
    SELECT student_id, school_id, date, category, minutes_absent FROM students_attendancerecord
    WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(end)s
""" + IN_CHUNK.format(id="student_id")
# A chunk's records as one text value of CSV lines, built by the server, with each date as its
# day number. Why: psycopg hands COPY output to Python one row at a time (≈ 4 µs a row: 2.9–3.4 s
# for a chunk's ≈ 675,000 records at load 8, against 1.6–2.3 s for this aggregate), and parsing
# as many date strings took another 0.4–0.8 s. Only for chunks (n > 1): a chunk holds at most
# CHUNK_STUDENTS students' records (≈ 25 MB of text), where a whole large district in one value
# would near PostgreSQL's 1 GB limit. Categories are AttendanceCategory codes (no comma, no quote).
RECORD_LINES_SQL = """
    SELECT string_agg(
        student_id::text || ',' || school_id::text || ',' || (date - DATE '1970-01-01')::text || ','
        || category || ',' || coalesce(minutes_absent::text, ''), E'\\n')
    FROM students_attendancerecord
    WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(end)s
""" + IN_CHUNK.format(id="student_id")
PRIOR_SQL = """
    SELECT student_id, school_year, days_enrolled, days_absent FROM students_prioryearsummary
    WHERE district_id = %(district_id)s AND school_year < %(this_year)s
""" + IN_CHUNK.format(id="student_id")
STUDENTS_SQL = "SELECT id FROM students_student WHERE district_id = %(district_id)s" + IN_CHUNK.format(id="id")


def load_year(district: District, year: SchoolYear, *, chunk: tuple[int, int] = (0, 1)) -> EngineInput:
    """The district's year, or one chunk's: `chunk` is (k, n), the students whose id mod n is k."""
    part = {"chunk": chunk[0], "chunks": chunk[1]}
    window = {"start": year.start, "end": year.end}
    calendar = _school_calendars(district, window)
    window = {**window, **part}
    enrollments = district_frame(
        district, ENROLLMENTS_SQL, window, columns=["student_id", "school_id", "entry_date", "exit_date"]
    )
    if chunk[1] > 1 and connection.vendor == "postgresql":
        records = _chunk_records(district, window)
    else:
        records = district_frame(
            district, RECORDS_SQL, window, columns=["student_id", "school_id", "date", "category", "minutes"]
        )
        records["date"] = pd.to_datetime(records["date"])
    this_year = f"{year.start.year}-{str(year.start.year + 1)[-2:]}"
    prior = district_frame(
        district,
        PRIOR_SQL,
        {"this_year": this_year, **part},
        columns=["student_id", "school_year", "days_enrolled", "days_absent"],
    )
    students = district_frame(district, STUDENTS_SQL, part, columns=["student_id"])
    for column in ["entry_date", "exit_date"]:
        enrollments[column] = pd.to_datetime(enrollments[column])
    return EngineInput(
        calendar=calendar, enrollments=enrollments, records=records, prior_years=prior, students=students
    )


def _chunk_records(district: District, window: dict) -> pd.DataFrame:
    """The chunk's records, the same frame as through COPY (RECORD_LINES_SQL says why not)."""
    columns = ["student_id", "school_id", "date", "category", "minutes"]
    ((text,),) = district_fetchall(district, RECORD_LINES_SQL, window)
    if not text:
        records = pd.DataFrame({name: [] for name in columns})
        records["date"] = pd.to_datetime(records["date"])
        return records
    # Parsed from bytes: io.StringIO holds text as 4 bytes a character (+55 MB peak a chunk).
    data = io.BytesIO(text.encode())
    del text
    records = pd.read_csv(data, header=None, names=columns)
    records["date"] = records["date"].to_numpy("int64").astype("datetime64[D]").astype("datetime64[us]")
    return records


def _school_calendars(district: District, window: dict) -> pd.DataFrame:
    """Each school's instructional days: its own rows, and the district default for any date
    the school does not list itself."""
    rows = district_frame(district, CALENDAR_SQL, window, columns=["school_id", "date", "instructional", "minutes"])
    rows["date"] = pd.to_datetime(rows["date"])
    rows["instructional"] = rows["instructional"].astype("int64") == 1
    own = rows[rows["school_id"].notna()].astype({"school_id": "int64"})
    defaults = rows[rows["school_id"].isna()].drop(columns="school_id")
    schools = district_frame(district, SCHOOLS_SQL, columns=["school_id"])
    inherited = schools.merge(defaults, how="cross")
    inherited = inherited.merge(own[["school_id", "date"]], on=["school_id", "date"], how="left", indicator=True)
    inherited = inherited[inherited["_merge"] == "left_only"].drop(columns="_merge")
    calendar = pd.concat([own, inherited], ignore_index=True)
    calendar = calendar[calendar["instructional"]]
    return calendar[["school_id", "date", "minutes"]].astype({"minutes": "int64"}).reset_index(drop=True)
