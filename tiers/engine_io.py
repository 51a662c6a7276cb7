"""The shapes the nightly engine reads and writes, shared by the engine, its reference
implementation in the tests, and the loaders. Plain pandas, no Django: the engine can be tested
and benchmarked on frames alone.

Inputs (one district, already scoped; ids are the database primary keys):

- calendar:     school_id:int, date:datetime64[ns], minutes:int
                One row per *instructional* day per school (district defaults already resolved
                into each school's rows by the loader). Other dates are not school days.
- enrollments:  student_id:int, school_id:int, entry_date:datetime64, exit_date:datetime64|NaT
                exit_date is the first day not enrolled (policy may make it inclusive); NaT = open.
- records:      student_id:int, school_id:int, date:datetime64, category:str, minutes:float|NaN
                Non-present attendance events with their SPEC category.
- prior_years:  student_id:int, school_year:str, days_enrolled:int, days_absent:int
- students:     student_id:int  (every student of the district, enrolled or not)

Outputs (EngineResult):

- students (one row per student_id, index student_id), columns in STUDENT_COLUMNS.
- student_schools (one row per student and school with membership), STUDENT_SCHOOL_COLUMNS.
- absences: student_id, date, ordinal, weight (1 or a fraction), kind (absent category or
  "partial") — the absent days counted, with their membership-day ordinal; the flags' "why"
  quotes their dates.
- skipped: records not counted, with the reason ("non_school_day", "outside_enrollment",
  "partial_without_minutes", "after_as_of") — for the import-health page.
"""

import dataclasses

import pandas as pd

STUDENT_COLUMNS = [
    "membership_days",
    "absent_days",  # int under whole-day counting, float under fractional
    "absent_excused",
    "absent_unexcused",
    "absent_suspension",
    "absent_partial",  # days that counted through the half-day rule
    "tardy_days",
    "absence_rate",  # float, rounded to 4 decimals; 0 with no membership
    "chronic",
    "band",
    "current_school_id",  # school of the enrollment open on the as-of date, else <NA>
    "remaining_days",
    "absences_left",
    "recent_rate",
    "projected_rate",
    # signals
    "first10_absent",
    "last10_absent",
    "last20_absent",
    "last10_tardy",
    "last20_tardy",
    "monday_friday_share",
    "longest_streak",
    "previous_rate",  # rate over the recent_window membership days before the recent ones
    "trend",  # recent_rate - previous_rate
    "prior_rate",
    "prior_year_chronic",
    "chronic_years",  # consecutive chronic years ending with this one (0, 1, 2, …)
    # triggers
    "rules",  # tuple of fired rule ids, in DEFAULT_RULES order
    "tier",  # 0, 2 or 3
]

STUDENT_SCHOOL_COLUMNS = [
    "student_id",
    "school_id",
    "membership_days",
    "absent_days",
    "absence_rate",
    "chronic",
    "band",
]


@dataclasses.dataclass
class EngineInput:
    calendar: pd.DataFrame
    enrollments: pd.DataFrame
    records: pd.DataFrame
    prior_years: pd.DataFrame
    students: pd.DataFrame


@dataclasses.dataclass
class EngineResult:
    students: pd.DataFrame
    student_schools: pd.DataFrame
    absences: pd.DataFrame
    skipped: pd.DataFrame
