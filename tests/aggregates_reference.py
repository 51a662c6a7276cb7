"""The figures' cache as tiers.aggregates computed it until 2026-12-01: the whole district in
memory at once (every student's row, their records, the prior year's engine pass, every weekly
snapshot row). Kept here, verbatim, as the reference the bounded computation must equal
(tests/test_aggregates_bounded.py)."""

import datetime

import pandas as pd

from districts.models import District
from districts.tenancy import district_fetchall, district_frame
from tiers.aggregates import (
    ALL_BANDS,
    DIMENSIONS,
    INSUFFICIENT_DAYS,
    PRIOR_YEAR_BASIS,
    PRIOR_YEAR_TO_DATE_BASIS,
    SCHOOLS_SQL,
    SUBGROUPS,
    _order,
    classified_students,
    prior_year_students,
)
from tiers.classification import chronic_status, thousandths
from tiers.loading import SchoolYear
from tiers.models import MetricsRun
from tiers.policy import Policy

WEEKS_SQL = """
    SELECT week_start, student_id, membership_days, absent_days, band FROM tiers_weeklysnapshot
    WHERE district_id = %(district_id)s AND membership_days > 0 AND week_start BETWEEN %(start)s AND %(end)s
"""


def compute(district: District, run: MetricsRun) -> dict:
    policy = run.policy.as_policy()
    classified = classified_students(district=district, run=run)
    metrics, school_rows = classified.students, classified.schools
    year = SchoolYear.containing(district, run.as_of)
    last = prior_year_students(district=district, run=run)
    previous, prior = last.school_year, last.students
    basis = (
        PRIOR_YEAR_TO_DATE_BASIS.format(year=previous, as_of=last.as_of)
        if last.to_date
        else PRIOR_YEAR_BASIS.format(year=previous)
    )
    prior_shares = "absent_excused" in prior.columns
    schools = dict(district_fetchall(district, SCHOOLS_SQL))

    groups = [_group("district", "all", district.name, metrics, prior, prior_shares=prior_shares)]
    for school_id, rows in school_rows.groupby("school_id"):
        groups.append(
            _group("school", str(school_id), schools.get(school_id, str(school_id)), rows, prior, shares=False)
        )
    for grade, rows in metrics[metrics["grade"] != ""].groupby("grade"):
        groups.append(_group("grade", grade, f"Grade {grade}", rows, prior, prior_shares=prior_shares))
    for band, rows in metrics[metrics["grade_band"] != ""].groupby("grade_band"):
        groups.append(_group("grade_band", band, f"Grades {band}", rows, prior, prior_shares=prior_shares))
    for flag, label in SUBGROUPS.items():
        groups.append(_group("subgroup", flag, label, metrics[metrics[flag]], prior, prior_shares=prior_shares))
    for race, rows in metrics[metrics["race_ethnicity"] != ""].groupby("race_ethnicity"):
        groups.append(_group("race_ethnicity", race, race, rows, prior, prior_shares=prior_shares))
    groups += _weeks(district, policy, year)
    return {
        "run_id": run.pk,
        "as_of": run.as_of,
        "policy_version": run.policy.version,
        "prior_year": previous,
        "prior_year_basis": basis,
        "prior_year_through": last.as_of if last.to_date else None,  # the page words the basis itself
        "groups": sorted(groups, key=lambda group: (DIMENSIONS.index(group["dimension"]), _order(group))),
    }


def _figures(rows: pd.DataFrame) -> dict:
    students = len(rows)
    eligible = int((rows["band"] != INSUFFICIENT_DAYS).sum())
    chronic = int(rows["chronic"].sum())
    return {
        "students": students,
        "students_eligible": eligible,  # enrolled at least the minimum days: the chronic rate's base
        "chronic": chronic,
        "chronic_rate": round(chronic / eligible, 4) if eligible else None,
        "bands": {band: int((rows["band"] == band).sum()) for band in ALL_BANDS},
        "average_days_missed": round(float(rows["absent_days"].astype(float).mean()), 2) if students else None,
    }


def _shares(rows: pd.DataFrame) -> dict | None:
    total = float(rows["absent_days"].astype(float).sum())
    if not total:
        return None
    parts = {
        "excused": "absent_excused",
        "unexcused": "absent_unexcused",
        "suspension": "absent_suspension",
        "partial_days": "absent_partial",
    }
    return {name: round(float(rows[column].astype(float).sum()) / total, 4) for name, column in parts.items()}


def _group(
    dimension: str,
    key: str,
    label: str,
    rows: pd.DataFrame,
    prior: pd.DataFrame,
    *,
    shares: bool = True,
    prior_shares: bool = False,
) -> dict:
    last_year = prior.loc[prior.index.intersection(rows["student_id"].unique())]
    prior_year = _figures(last_year) if len(last_year) else None
    if prior_year is not None:
        prior_year["shares"] = _shares(last_year) if shares and prior_shares else None
    return {
        "dimension": dimension,
        "key": key,
        "label": label,
        **_figures(rows),
        # School rows are school-level figures (SPEC §4), which are stored without a category split.
        "shares": _shares(rows) if shares else None,
        "prior_year": prior_year,
    }


def _weeks(district: District, policy: Policy, year: SchoolYear) -> list[dict]:
    """District-wide figures at the end of each school week of the year, from the weekly snapshots."""
    window = {"start": year.start - datetime.timedelta(days=6), "end": year.end}
    weeks = district_frame(
        district, WEEKS_SQL, window, columns=["week_start", "student_id", "membership_days", "absent_days", "band"]
    )
    if weeks.empty:
        return []
    weeks["chronic"] = chronic_status(
        thousandths(weeks["absent_days"]), weeks["membership_days"].astype("int64"), unit=1000, policy=policy
    )
    weeks["week_start"] = pd.to_datetime(weeks["week_start"]).dt.date
    return [
        {"dimension": "week", "key": week.isoformat(), "label": f"Week of {week:%b} {week.day}, {week.year}", **_figures(rows),
         "shares": None, "prior_year": None}
        for week, rows in weeks.groupby("week_start")
    ]  # fmt: skip
