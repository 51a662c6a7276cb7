"""Week-2 and week-4 pulse checks (SPEC §8): students absent 2 or more whole days in their
school's first 10 and first 20 school days, by school and grade.

Early absences predict chronic absence (the district guide's reason for checking in September),
so each check is counted once its window has passed and kept as a dated PulseCheck row: next
year the district compares with it even though this year's attendance is no longer loaded.

Each school's window is its own first N instructional days (its calendar over the district
default). A student counts at a school when enrolled there on some day of the window; absences
are whole-day absent records (excused, unexcused, out-of-school suspension) at that school on
those days. The district row counts each student once, adding up their absences at every school.
"""

import dataclasses
import datetime

import pandas as pd

from districts.models import District, School
from districts.tenancy import district_fetchall, district_frame
from students.models import WHOLE_DAY_ABSENT_CATEGORIES
from tiers.aggregates import a_year_before
from tiers.loading import SchoolYear

CHECKPOINTS = [10, 20]
ABSENCES_FLAGGED = 2
CALENDAR_SQL = """
    SELECT school_id, date, instructional FROM students_calendarday
    WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(end)s
"""
ENROLLMENTS_SQL = """
    SELECT student_id, school_id, grade, entry_date, exit_date FROM students_enrollment
    WHERE district_id = %(district_id)s AND entry_date <= %(end)s AND (exit_date IS NULL OR exit_date >= %(start)s)
"""
ABSENCES_SQL = """
    SELECT student_id, school_id, date, category FROM students_attendancerecord
    WHERE district_id = %(district_id)s AND date BETWEEN %(start)s AND %(end)s
"""


@dataclasses.dataclass(frozen=True)
class CheckRow:
    school_id: int | None  # None: the district
    grade: str  # "": every grade
    window_start: datetime.date
    window_end: datetime.date
    students: int
    two_or_more: int


def school_year_of(district: District, day: datetime.date) -> SchoolYear:
    """The school year `day` falls in, a configured one stepped back a year at a time for earlier dates."""
    year = SchoolYear.containing(district, day)
    while day < year.start:
        year = SchoolYear(a_year_before(year.start), a_year_before(year.end))
    return year


def school_year_label(year: SchoolYear) -> str:
    return f"{year.start.year}-{(year.start.year + 1) % 100:02d}"


def school_windows(district: District, year: SchoolYear, days: int) -> dict[int, list[datetime.date]]:
    """Each school's first `days` instructional days of the year (fewer when the calendar has fewer)."""
    end = min(year.end, year.start + datetime.timedelta(days=days * 7))
    rows = district_fetchall(district, CALENDAR_SQL, {"start": year.start, "end": end})
    default = {day: instructional for school_id, day, instructional in rows if school_id is None}
    own: dict[int, dict] = {}
    for school_id, day, instructional in rows:
        if school_id is not None:
            own.setdefault(school_id, {})[day] = instructional
    windows = {}
    for school_id in School.objects.values_list("pk", flat=True):
        calendar = {**default, **own.get(school_id, {})}
        windows[school_id] = sorted(day for day, instructional in calendar.items() if instructional)[:days]
    return windows


def pulse_check_rows(*, district: District, year: SchoolYear, checkpoint: int, as_of: datetime.date):
    """The check's rows once every school's window has ended by `as_of`, or None before then
    (a school whose calendar has fewer days than the window is left out)."""
    windows = {pk: days for pk, days in school_windows(district, year, checkpoint).items() if len(days) == checkpoint}
    if not windows or max(days[-1] for days in windows.values()) > as_of:
        return None
    start, end = min(days[0] for days in windows.values()), max(days[-1] for days in windows.values())
    period = {"start": start, "end": end}
    enrollments = district_frame(
        district, ENROLLMENTS_SQL, period, columns=["student_id", "school_id", "grade", "entry_date", "exit_date"]
    )
    records = district_frame(district, ABSENCES_SQL, period, columns=["student_id", "school_id", "date", "category"])
    whole_days = records[records["category"].isin({str(category) for category in WHOLE_DAY_ABSENT_CATEGORIES})]
    absences = whole_days.drop_duplicates(["student_id", "school_id", "date"])
    absence_days = pd.to_datetime(absences["date"])
    enrolled, absent = [], []
    for school_id, days in windows.items():
        first, last = days[0], days[-1]
        at_school = enrollments[enrollments["school_id"] == school_id]
        entry, exit_date = pd.to_datetime(at_school["entry_date"]), pd.to_datetime(at_school["exit_date"])
        during = at_school[(entry <= pd.Timestamp(last)) & (exit_date.isna() | (exit_date >= pd.Timestamp(first)))]
        # A student enrolled twice in the window keeps the grade of the later enrollment.
        during = during.sort_values("entry_date").drop_duplicates("student_id", keep="last")
        enrolled.append(during[["student_id", "school_id", "grade"]])
        here = absences[(absences["school_id"] == school_id) & absence_days.isin(pd.to_datetime(days))]
        absent.append(here.groupby("student_id").size().rename("absences").reset_index().assign(school_id=school_id))
    enrolled = pd.concat(enrolled, ignore_index=True)
    enrolled["grade"] = enrolled["grade"].astype(object).fillna("").astype(str)
    counts = pd.concat(absent, ignore_index=True) if absent else pd.DataFrame(columns=["student_id", "absences"])
    at_schools = enrolled.merge(counts, on=["student_id", "school_id"], how="left").fillna({"absences": 0})
    in_district = (
        at_schools.groupby("student_id")
        .agg(absences=("absences", "sum"), grade=("grade", "last"))
        .reset_index()
        .assign(school_id=None)
    )
    window_of = {pk: (days[0], days[-1]) for pk, days in windows.items()}
    rows = []
    for frame, is_district in [(at_schools, False), (in_district, True)]:
        frame = frame.assign(flagged=frame["absences"] >= ABSENCES_FLAGGED)
        groups = [(None, frame)] if is_district else list(frame.groupby("school_id"))
        for school_id, members in groups:
            first, last = (start, end) if is_district else window_of[int(school_id)]
            school = None if is_district else int(school_id)
            rows.append(CheckRow(school, "", first, last, len(members), int(members["flagged"].sum())))
            for grade, part in members.groupby("grade"):
                if not grade:  # no grade on record: in the school's and the district's totals only
                    continue
                rows.append(CheckRow(school, str(grade), first, last, len(part), int(part["flagged"].sum())))
    return rows
