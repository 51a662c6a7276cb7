"""Write a synthetic district as a canonical CSV folder (SPEC §4), for the import benchmark.

    .venv/bin/python bench/generate_district.py --students 200000 /tmp/attendnc-bench/district-200000

Shapes follow the engine benchmark's: ~800 students a school (250 schools at 200,000), a
180-day year with weekends and holidays on every school's calendar, about 15 non-present
events per student (≈3M records at 200,000) with a skewed absence distribution, 3% of students
transferring mid-year, tardies and partial days carrying minutes, one or two guardians each
and last year's totals for most students. Deterministic for a given size and seed.
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

START = datetime.date(2025, 8, 25)
HOLIDAYS = [
    "2025-09-01",
    "2025-10-13",
    "2025-11-11",
    "2025-11-26",
    "2025-11-27",
    "2025-11-28",
    "2026-01-19",
    "2026-02-16",
]
WINTER_BREAK = ("2025-12-22", "2026-01-02")
SPRING_BREAK = ("2026-03-30", "2026-04-03")
ABSENT_CODES, ABSENT_WEIGHTS = ["E", "U", "S"], [0.45, 0.5, 0.05]
MINUTE_CODES = ["T", "D", "H"]
FIRST = [
    "Ana",
    "Ben",
    "Cy",
    "Dee",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
]
LAST = [
    "Rivera",
    "Okafor",
    "Lund",
    "Nguyen",
    "Brooks",
    "Ortiz",
    "Hale",
    "Patel",
    "Kim",
    "Smith",
    "Garcia",
    "Jones",
    "Chen",
    "Diallo",
]
LANGUAGES, LANGUAGE_WEIGHTS = ["English", "Spanish", "Vietnamese", "Arabic", "Mandarin"], [0.78, 0.15, 0.03, 0.02, 0.02]
RACES = ["White", "Black", "Hispanic", "Asian", "Two or more", "American Indian"]
RACE_WEIGHTS = [0.45, 0.25, 0.2, 0.05, 0.04, 0.01]
GRADES = np.array(["K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"])


def school_calendar() -> pd.DataFrame:
    """Every date from the first day to the 180th instructional day, and whether it is one."""
    dates = pd.date_range(START, periods=300, freq="D")
    closed = dates.day_of_week >= 5
    closed |= dates.isin(pd.to_datetime(HOLIDAYS))
    for first, last in (WINTER_BREAK, SPRING_BREAK):
        closed |= (dates >= first) & (dates <= last)
    instructional = ~closed
    last_day = dates[instructional][179]
    keep = dates <= last_day
    return pd.DataFrame({"date": dates[keep], "instructional": instructional[keep]})


def generate(students: int, out: Path, *, seed: int = 11) -> dict[str, int]:
    rng = np.random.default_rng(seed + students)
    out.mkdir(parents=True, exist_ok=True)
    schools = max(1, students // 800)
    school_ids = np.array([f"SCH{n:04d}" for n in range(1, schools + 1)])
    student_ids = np.array([f"ST{n:07d}" for n in range(1, students + 1)])
    calendar = school_calendar()
    days = calendar.loc[calendar["instructional"], "date"].to_numpy()

    pd.DataFrame(
        {
            "school_id": school_ids,
            "name": [f"School {n}" for n in range(1, schools + 1)],
            "grade_low": "K",
            "grade_high": "12",
        }
    ).to_csv(out / "schools.csv", index=False)

    grade = GRADES[rng.integers(0, len(GRADES), students)]
    birth = pd.Timestamp("2019-06-01") - pd.to_timedelta(
        grade_years(grade) * 365 + rng.integers(0, 365, students), unit="D"
    )
    flags = lambda share: np.where(rng.random(students) < share, "Y", "N")  # noqa: E731
    pd.DataFrame(
        {
            "student_id": student_ids,
            "first_name": np.array(FIRST)[rng.integers(0, len(FIRST), students)],
            "last_name": np.array(LAST)[rng.integers(0, len(LAST), students)],
            "birth_date": birth.strftime("%Y-%m-%d"),
            "grade": grade,
            "home_language": rng.choice(LANGUAGES, students, p=LANGUAGE_WEIGHTS),
            "econ_disadvantaged": flags(0.45),
            "disability": flags(0.14),
            "english_learner": flags(0.1),
            "race_ethnicity": rng.choice(RACES, students, p=RACE_WEIGHTS),
            "homeless": flags(0.02),
            "foster": flags(0.005),
        }
    ).to_csv(out / "students.csv", index=False)

    home = rng.integers(0, schools, students)
    movers = rng.random(students) < 0.03
    move_day = rng.integers(20, 160, students)
    other = (home + rng.integers(1, max(2, schools), students)) % schools
    first = pd.DataFrame(
        {
            "student_id": student_ids,
            "school_id": school_ids[home],
            "grade": grade,
            "entry_date": str(START),
            "exit_date": "",
        }
    )
    first.loc[movers, "exit_date"] = pd.DatetimeIndex(days[move_day[movers]]).strftime("%Y-%m-%d")
    second = pd.DataFrame(
        {"student_id": student_ids[movers], "school_id": school_ids[other[movers]], "grade": grade[movers],
         "entry_date": pd.DatetimeIndex(days[move_day[movers]]).strftime("%Y-%m-%d"), "exit_date": ""}
    )  # fmt: skip
    enrollments = pd.concat([first, second], ignore_index=True)
    enrollments.to_csv(out / "enrollments.csv", index=False)

    calendar_rows = pd.DataFrame(
        {
            "school_id": np.repeat(school_ids, len(calendar)),
            "date": np.tile(calendar["date"].dt.strftime("%Y-%m-%d").to_numpy(), schools),
            "instructional": np.tile(np.where(calendar["instructional"], "Y", "N"), schools),
            "minutes": np.tile(np.where(calendar["instructional"], 360, 0), schools),
        }
    )
    calendar_rows.to_csv(out / "calendar.csv", index=False)

    records = _attendance(rng, student_ids, school_ids, home, other, movers, move_day, days)
    records.to_csv(out / "attendance.csv", index=False)

    second_guardian = rng.random(students) < 0.5
    owners = np.concatenate([np.arange(students), np.flatnonzero(second_guardian)])
    pd.DataFrame(
        {
            "student_id": student_ids[owners],
            "name": [
                f"Guardian {n} of {student_ids[o]}"
                for n, o in zip(np.r_[np.ones(students, int), np.full(second_guardian.sum(), 2)], owners)
            ],
            "relationship": rng.choice(["mother", "father", "grandparent", "guardian"], len(owners)),
            "phone": [f"919-555-{n % 10000:04d}" for n in range(len(owners))],
            "email": "",
            "language": "English",
            "preferred_channel": rng.choice(["phone", "text", "email", ""], len(owners)),
        }
    ).to_csv(out / "guardians.csv", index=False)

    prior = rng.random(students) < 0.9
    enrolled = rng.integers(150, 181, prior.sum())
    absent = np.minimum(enrolled, rng.poisson(rng.gamma(0.9, 0.09, prior.sum()).clip(0, 0.6) * enrolled))
    pd.DataFrame(
        {"student_id": student_ids[prior], "school_year": "2024-25", "days_enrolled": enrolled, "days_absent": absent}
    ).to_csv(out / "prior_year.csv", index=False)
    return {
        "schools": schools, "students": students, "enrollments": len(enrollments), "calendar": len(calendar_rows),
        "attendance": len(records), "guardians": len(owners), "prior_year": int(prior.sum()),
    }  # fmt: skip


def grade_years(grade: np.ndarray) -> np.ndarray:
    return np.array([0 if g == "K" else int(g) for g in grade])


def _attendance(rng, student_ids, school_ids, home, other, movers, move_day, days) -> pd.DataFrame:
    """About 15 events a student on average, most students rarely absent and a long tail."""
    students = len(student_ids)
    propensity = rng.gamma(shape=0.9, scale=0.1, size=students).clip(0, 0.6)
    owner = np.repeat(np.arange(students), rng.poisson(propensity * 180))
    day = rng.integers(0, len(days), len(owner))
    events = pd.DataFrame({"owner": owner, "day": day}).drop_duplicates()
    owner, day = events["owner"].to_numpy(), events["day"].to_numpy()
    whole = rng.random(len(owner)) < 0.85
    code = np.where(whole, rng.choice(ABSENT_CODES, len(owner), p=ABSENT_WEIGHTS), rng.choice(MINUTE_CODES, len(owner)))
    minutes = np.where(whole, "", rng.integers(10, 300, len(owner)).astype(str))
    school = np.where(movers[owner] & (day >= move_day[owner]), other[owner], home[owner])
    return pd.DataFrame(
        {
            "student_id": student_ids[owner],
            "school_id": school_ids[school],
            "date": pd.DatetimeIndex(days[day]).strftime("%Y-%m-%d"),
            "code": code,
            "minutes_absent": minutes,
        }
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.students, args.out, seed=args.seed)
    print(
        f"Wrote {args.out} in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )


if __name__ == "__main__":
    sys.exit(main())
