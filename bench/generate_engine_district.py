"""A synthetic district written straight into PostgreSQL with COPY, for the engine benchmark.

Shapes follow the measured real world: 180 instructional days, ~800 students a school, about
15 non-present events per student (≈3M at 200,000), a skewed absence distribution, 3% of
students transferring mid-year and 2% with partial-day or tardy records carrying minutes.
"""

import datetime
import io

import numpy as np
import pandas as pd
from django.db import connection

ABSENT = ["absent_excused", "absent_unexcused", "suspension_out_of_school"]
PARTIAL = ["tardy", "early_dismissal", "partial_day"]
CODES = {
    "absent_excused": "E",
    "absent_unexcused": "U",
    "suspension_out_of_school": "S",
    "tardy": "T",
    "early_dismissal": "D",
    "partial_day": "H",
}


def school_days(start: datetime.date, count: int) -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=count)


def generate(district_id: int, students: int, *, start: datetime.date, seed: int = 7) -> dict[str, int]:
    rng = np.random.default_rng(seed + students)
    schools = max(1, students // 800)
    days = school_days(start, 180)
    cursor_ids = _insert_schools(district_id, schools)
    school_ids = np.array(cursor_ids)

    student_ids = _insert_students(district_id, students)
    home = school_ids[rng.integers(0, schools, students)]

    # Enrollments: everyone from day 1; 3% transfer at a random day to another school.
    movers = rng.random(students) < 0.03
    move_day = days[rng.integers(20, 160, students)]
    other = school_ids[rng.integers(0, schools, students)]
    first = pd.DataFrame({"student_id": student_ids, "school_id": home, "entry_date": days[0], "exit_date": pd.NaT})
    first.loc[movers, "exit_date"] = move_day[movers]
    second = pd.DataFrame(
        {
            "student_id": student_ids[movers],
            "school_id": other[movers],
            "entry_date": move_day[movers],
            "exit_date": pd.NaT,
        }
    )
    enrollments = pd.concat([first, second], ignore_index=True)

    # Calendar: every school's 180 instructional days.
    calendar = pd.DataFrame({"school_id": np.repeat(school_ids, len(days)), "date": np.tile(days, schools)})

    # Attendance events: a skewed per-student propensity (most students rarely absent).
    propensity = rng.gamma(shape=0.9, scale=0.09, size=students).clip(0, 0.6)
    counts = rng.poisson(propensity * 180)
    owner = np.repeat(np.arange(students), counts)
    day_index = rng.integers(0, 180, len(owner))
    events = pd.DataFrame({"owner": owner, "day": day_index}).drop_duplicates()
    owner, day_index = events["owner"].to_numpy(), events["day"].to_numpy()
    kind = np.where(
        rng.random(len(owner)) < 0.85,
        rng.choice(ABSENT, len(owner), p=[0.45, 0.5, 0.05]),
        rng.choice(PARTIAL, len(owner)),
    )
    dates = days[day_index]
    school = np.where(movers[owner] & (dates >= move_day[owner]), other[owner], home[owner])
    minutes = np.where(np.isin(kind, PARTIAL), rng.integers(10, 300, len(owner)), -1)
    records = pd.DataFrame(
        {
            "student_id": student_ids[owner],
            "school_id": school,
            "date": dates,
            "code": [CODES[k] for k in kind],
            "category": kind,
            "minutes_absent": minutes,
        }
    )
    records["minutes_absent"] = records["minutes_absent"].where(records["minutes_absent"] >= 0).astype("Int64")

    _copy("students_enrollment", district_id, enrollments.assign(grade="", exit_reason=""))
    _copy("students_calendarday", district_id, calendar.assign(instructional=True, minutes=360, event=""))
    _copy("students_attendancerecord", district_id, records)
    return {
        "schools": schools,
        "students": students,
        "enrollments": len(enrollments),
        "calendar_days": len(calendar),
        "records": len(records),
    }


def _insert_schools(district_id: int, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO districts_school (district_id, sis_id, name, grade_low, grade_high) "
            "SELECT %s, 'S' || g, 'School ' || g, 'K', '12' FROM generate_series(1, %s) g RETURNING id",
            [district_id, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _insert_students(district_id: int, count: int) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO students_student (district_id, sis_id, first_name, last_name, grade, home_language, "
            "econ_disadvantaged, disability, english_learner, race_ethnicity, homeless, foster, updated_at) "
            "SELECT %s, 'ST' || g, 'First' || g, 'Last' || g, (g %% 13)::text, 'English', g %% 2 = 0, g %% 7 = 0, "
            "g %% 10 = 0, '', false, false, now() FROM generate_series(1, %s) g RETURNING id",
            [district_id, count],
        )
        return np.array(sorted(row[0] for row in cursor.fetchall()))


def _copy(table: str, district_id: int, frame: pd.DataFrame) -> None:
    frame = frame.assign(district_id=district_id)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d")
    columns = ", ".join(frame.columns)
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy,
    ):
        copy.write(buffer.getvalue())
