"""The nightly engine: every student's year-to-date attendance metrics, signals and triggers.

Vectorised pandas/numpy over the whole district at once (no per-student Python loop), with
exact arithmetic wherever a threshold is decided (SPEC §4). tests/engine_reference.py is a
plain-loop implementation of the same rules; property tests hold the two equal.

How it stays fast without expanding student × day (36M rows at 200,000 students):
- The instructional calendar becomes one sorted int64 array of keys (school, day). An
  enrollment is a span [lo, hi) of indices in it, so its membership days are `hi - lo`, and the
  membership-day ordinal of a date is arithmetic on its index.
- Only students whose enrollments overlap in time (dual enrollment, or an inclusive exit date
  equal to the next entry) need real date sets; those few are expanded exactly.

Why integer "units" for day weights: under fractional counting a partial day weighs
minutes / day minutes. Weights are integers in units of 1/L, L the least common multiple of the
calendar's day lengths, so "exactly 10%" compares exactly. Under whole-day counting L = 1.
"""

import datetime
import math

import numpy as np
import pandas as pd

# Chronic status, bands and exact rate comparisons are shared with the aggregates.
from .classification import chronic_status, classify
from .classification import integers as _integers
from .classification import rate_at_least as _exact_at_least
from .engine_io import STUDENT_COLUMNS, STUDENT_SCHOOL_COLUMNS, EngineInput, EngineResult
from .policy import DEFAULT_RULES, FRACTIONAL_DAYS, RULE_TIERS, Policy

SHIFT = 1 << 20  # day numbers (days since 1970) stay far below this
END_OF_TIME = SHIFT - 1
KIND_RANK = {"absent_excused": 1, "absent_unexcused": 2, "suspension_out_of_school": 3}
KIND_COLUMNS = {0: "absent_partial", 1: "absent_excused", 2: "absent_unexcused", 3: "absent_suspension"}
KIND_NAMES = {0: "partial", 1: "absent_excused", 2: "absent_unexcused", 3: "suspension_out_of_school"}
MINUTE_CATEGORIES = ("tardy", "early_dismissal", "partial_day")
TARDY_CATEGORIES = ("tardy", "early_dismissal")
MONDAY, FRIDAY = 0, 4


def compute(
    inputs: EngineInput, *, as_of: datetime.date, policy: Policy, tier2_plans: pd.DataFrame | None = None
) -> EngineResult:
    asof = _day(as_of)
    calendar = _Calendar(inputs.calendar, fractional=policy.partial_days == FRACTIONAL_DAYS)
    spans = _enrollment_spans(inputs.enrollments, calendar, asof, policy.exit_date_inclusive)
    complex_dates = _expand(spans[spans["complex"]], calendar)
    counted, skipped, kinds = _classify_records(inputs.records, calendar, spans, asof)
    school_days = _school_day_weights(counted, kinds, calendar, policy)
    district_days = _district_days(school_days, complex_dates, calendar.unit)

    ids = _student_ids(inputs, spans)
    students = pd.DataFrame(index=pd.Index(ids, name="student_id"))
    students["membership_days"] = _district_membership(spans, complex_dates).reindex(ids, fill_value=0)
    ctx = _Context(students, district_days, policy, calendar.unit)
    ctx.absence_totals()
    ctx.current_school(spans, calendar, asof, policy.exit_date_inclusive)
    ctx.signals()
    ctx.prior_years(inputs.prior_years)
    ctx.rules(_tier2_ready(tier2_plans, asof, policy))
    return EngineResult(
        students=ctx.finished(),
        student_schools=_student_schools(spans, complex_dates, school_days, policy, calendar.unit),
        absences=_absences(district_days, calendar.unit),
        skipped=skipped,
    )


# ----------------------------------------------------------------------------- calendar and spans


def _day(value) -> int:
    return int((np.datetime64(value, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def _days(series: pd.Series) -> np.ndarray:
    """Day numbers of a date column; missing dates (open exits) become END_OF_TIME."""
    values = pd.to_datetime(pd.Series(series)).to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(values), END_OF_TIME, values.astype("int64"))


def _dates(days) -> pd.Series:
    return pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[ns]"))


class _Calendar:
    """Every school's instructional days as one sorted key array (school << 20 | day)."""

    def __init__(self, frame: pd.DataFrame, *, fractional: bool):
        keys = frame["school_id"].to_numpy("int64") * SHIFT + _days(frame["date"])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.minutes = frame["minutes"].to_numpy("int64")[order]
        lengths = sorted({int(m) for m in self.minutes if m > 0})
        self.unit = math.lcm(*lengths) if fractional and lengths else 1

    def index(self, school, day) -> np.ndarray:
        return np.searchsorted(self.keys, np.asarray(school, "int64") * SHIFT + day, side="left")

    def locate(self, school: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        position = self.index(school, day)
        found = np.zeros(len(position), dtype=bool)
        inside = position < len(self.keys)
        found[inside] = self.keys[position[inside]] == (school * SHIFT + day)[inside]
        return found, position


def _enrollment_spans(frame: pd.DataFrame, calendar: _Calendar, asof: int, exit_inclusive: bool) -> pd.DataFrame:
    """Each enrollment as calendar indices [lo, hi) of its membership days up to the as-of date,
    with `before`: the student's membership days in earlier spans (disjoint spans only)."""
    start = _days(frame["entry_date"])
    exit_day = _days(frame["exit_date"])
    end = np.where(exit_day == END_OF_TIME, END_OF_TIME, exit_day + (1 if exit_inclusive else 0))
    member_end = np.maximum(np.minimum(end, asof + 1), start)
    school = frame["school_id"].to_numpy("int64")
    lo = calendar.index(school, start)
    spans = pd.DataFrame(
        {
            "student_id": frame["student_id"].to_numpy("int64"),
            "school_id": school,
            "start": start,
            "end": end,
            "member_end": member_end,
            "lo": lo,
            "hi": np.maximum(calendar.index(school, member_end), lo),
        }
    ).sort_values(["student_id", "start", "school_id"], kind="stable", ignore_index=True)
    spans["days"] = spans["hi"] - spans["lo"]
    earlier_end = spans.groupby("student_id")["member_end"].cummax().groupby(spans["student_id"]).shift(1)
    overlaps = (spans["start"] < earlier_end.fillna(-1)) & (spans["days"] > 0)
    spans["complex"] = spans["student_id"].isin(spans.loc[overlaps, "student_id"])
    spans["before"] = spans.groupby("student_id")["days"].cumsum() - spans["days"]
    return spans


def _expand(spans: pd.DataFrame, calendar: _Calendar) -> pd.DataFrame:
    """Exact membership dates of students with overlapping enrollments (few), with ordinals."""
    lengths = spans["days"].to_numpy()
    total = int(lengths.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(spans["lo"].to_numpy(), lengths) + offsets
    dates = pd.DataFrame(
        {
            "student_id": np.repeat(spans["student_id"].to_numpy(), lengths),
            "school_id": np.repeat(spans["school_id"].to_numpy(), lengths),
            "day": calendar.keys[positions] % SHIFT if total else np.array([], "int64"),
        }
    ).drop_duplicates()
    by_student = dates[["student_id", "day"]].drop_duplicates().sort_values(["student_id", "day"], kind="stable")
    by_student["ordinal"] = by_student.groupby("student_id").cumcount() + 1
    return dates.merge(by_student, on=["student_id", "day"])


def _district_membership(spans: pd.DataFrame, complex_dates: pd.DataFrame) -> pd.Series:
    simple = spans[~spans["complex"]].groupby("student_id")["days"].sum()
    overlapping = complex_dates.drop_duplicates(["student_id", "day"]).groupby("student_id").size()
    return pd.concat([simple, overlapping]).astype("int64")


def _student_ids(inputs: EngineInput, spans: pd.DataFrame) -> np.ndarray:
    known = inputs.students["student_id"].to_numpy("int64")
    return np.union1d(known, spans["student_id"].to_numpy("int64"))


# ----------------------------------------------------------------------------- records and day weights


class _Kinds:
    """The records' categories as small integer codes, each distinct category looked at once.

    At 200,000 students a chunk has ~700,000 records and a handful of categories; turning each
    record's category into a Python string and back to Arrow text (pandas' default string type)
    for every isin, map and merge was ~0.2 s of each chunk's engine."""

    def __init__(self, categories: pd.Series):
        self.codes, distinct = pd.factorize(categories, use_na_sentinel=False)
        # The same text as `categories.astype(str)`, per distinct value.
        self.names = pd.Series(distinct, dtype=categories.dtype).astype(str).to_numpy(dtype=object)
        self.rank = np.array([KIND_RANK.get(name, 0) for name in self.names], dtype="int64")
        self.minutes = np.isin(self.names, MINUTE_CATEGORIES)
        self.tardy = np.isin(self.names, TARDY_CATEGORIES)


def _classify_records(frame: pd.DataFrame, calendar: _Calendar, spans: pd.DataFrame, asof: int):
    """Split records into those that count and those that do not, with the reason. Counted
    records carry their category as a code (`kind`) into kinds' tables."""
    kinds = _Kinds(frame["category"])
    records = pd.DataFrame(
        {
            "student_id": frame["student_id"].to_numpy("int64"),
            "school_id": frame["school_id"].to_numpy("int64"),
            "day": _days(frame["date"]),
            "kind": kinds.codes,
            "minutes": pd.to_numeric(frame["minutes"], errors="coerce").to_numpy("float64"),
        }
    )
    records["record"] = np.arange(len(records))
    reason = np.full(len(records), "", dtype=object)
    reason[records["day"].to_numpy() > asof] = "after_as_of"
    on_school_day, records["position"] = calendar.locate(records["school_id"].to_numpy(), records["day"].to_numpy())
    reason[(reason == "") & ~on_school_day] = "non_school_day"

    candidates = records[reason == ""].merge(
        spans[["student_id", "school_id", "start", "member_end", "lo", "before", "complex"]],
        on=["student_id", "school_id"],
    )
    within = (candidates["day"] >= candidates["start"]) & (candidates["day"] < candidates["member_end"])
    counted = candidates[within].drop_duplicates("record").drop(columns=["start", "member_end"])
    reason[(reason == "") & ~np.isin(records["record"].to_numpy(), counted["record"].to_numpy())] = "outside_enrollment"

    no_minutes = kinds.minutes[counted["kind"].to_numpy()] & counted["minutes"].isna().to_numpy()
    columns = ["student_id", "school_id", "day", "kind"]
    skipped = pd.concat(
        [
            records.loc[reason != "", columns].assign(reason=reason[reason != ""]),
            counted.loc[no_minutes, columns].assign(reason="partial_without_minutes"),
        ],
        ignore_index=True,
    )
    skipped.insert(2, "date", _dates(skipped.pop("day")))
    skipped.insert(3, "category", kinds.names[skipped.pop("kind").to_numpy()])
    return counted, skipped, kinds


def _school_day_weights(counted: pd.DataFrame, kinds: _Kinds, calendar: _Calendar, policy: Policy) -> pd.DataFrame:
    """One row per (student, school, day) with a counted record: its weight in 1/unit days."""
    kind = counted["kind"].to_numpy()
    minutes = counted["minutes"].to_numpy("float64")
    flagged = counted.assign(
        rank=kinds.rank[kind],
        tardy=kinds.tardy[kind],
        missed=np.where(kinds.minutes[kind] & ~np.isnan(minutes), minutes, 0.0).astype("int64"),
    )
    days = (
        flagged.groupby(["student_id", "school_id", "day"], sort=False)
        .agg(
            rank=("rank", "max"),
            tardy=("tardy", "any"),
            missed=("missed", "sum"),
            position=("position", "first"),
            lo=("lo", "first"),
            before=("before", "first"),
            complex=("complex", "first"),
        )
        .reset_index()
    )
    day_minutes = calendar.minutes[days["position"].to_numpy()]
    missed = np.minimum(days["missed"].to_numpy(), day_minutes)
    unit = calendar.unit
    if policy.partial_days == FRACTIONAL_DAYS:
        partial = _integers(missed, unit) * _integers(unit // np.maximum(day_minutes, 1), unit)
    else:
        partial = np.where((missed > 0) & (2 * missed >= day_minutes), unit, 0)
    whole = days["rank"].to_numpy() > 0
    days["units"] = _integers(np.where(whole, unit, partial), unit)
    days["ordinal"] = days["before"] + days["position"] - days["lo"] + 1  # valid for disjoint spans
    return days.drop(columns=["missed", "position", "lo", "before"])


def _district_days(school_days: pd.DataFrame, complex_dates: pd.DataFrame, unit: int) -> pd.DataFrame:
    """One row per (student, day) that is absent or tardy at district level, with its ordinal.
    Several schools on one day (overlapping enrollments) never count more than one day."""
    ordered = school_days.sort_values(["student_id", "day", "units", "rank"], kind="stable")
    days = (
        ordered.groupby(["student_id", "day"], sort=True)
        .agg(
            units=("units", "last"),
            rank=("rank", "last"),
            tardy=("tardy", "any"),
            ordinal=("ordinal", "first"),
            complex=("complex", "first"),
        )
        .reset_index()
    )
    if days["complex"].any():
        exact = days.loc[days["complex"], ["student_id", "day"]].merge(
            complex_dates[["student_id", "day", "ordinal"]].drop_duplicates(), on=["student_id", "day"], how="left"
        )
        days.loc[days["complex"], "ordinal"] = exact["ordinal"].to_numpy()
    days["tardy_day"] = days["tardy"] & (days["units"] < unit)
    days["absent"] = days["units"] > 0
    days["weekday"] = (days["day"] + 3) % 7  # 1970-01-01 was a Thursday
    return days[days["absent"] | days["tardy_day"]].reset_index(drop=True)


def _absences(district_days: pd.DataFrame, unit: int) -> pd.DataFrame:
    absent = district_days[district_days["absent"]]
    return pd.DataFrame(
        {
            "student_id": absent["student_id"].to_numpy(),
            "date": _dates(absent["day"]).to_numpy(),
            "ordinal": absent["ordinal"].to_numpy("int64"),
            "weight": absent["units"].to_numpy() / unit,
            "kind": absent["rank"].map(KIND_NAMES).to_numpy(),
        }
    )


# ----------------------------------------------------------------------------- per-student figures


def _rate(absent_units, membership, unit: int) -> np.ndarray:
    """absent / membership rounded half-up to 4 decimals, in integers; 0 without membership."""
    a = _integers(absent_units, unit)
    m = _integers(membership, unit) * unit
    safe = np.maximum(m, 1)
    return np.where(m > 0, ((a * 20000 + safe) // (2 * safe)).astype("float64") / 10000, 0.0)


def _ratio(numerator, denominator) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, "float64"), np.asarray(denominator, "float64")
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


class _Context:
    """The per-student columns, filled step by step from the district-level day table."""

    def __init__(self, students: pd.DataFrame, days: pd.DataFrame, policy: Policy, unit: int):
        self.s, self.policy, self.unit = students, policy, unit
        membership = students["membership_days"].reindex(days["student_id"]).to_numpy()
        self.days = days.assign(membership=membership)
        self.absent = self.days[self.days["absent"]]
        self.tardy = self.days[self.days["tardy_day"]]

    def _sum(self, frame: pd.DataFrame, mask=None, column: str = "units") -> pd.Series:
        chosen = frame if mask is None else frame[mask]
        return chosen.groupby("student_id")[column].sum().reindex(self.s.index, fill_value=0)

    def _count(self, frame: pd.DataFrame, mask=None) -> pd.Series:
        chosen = frame if mask is None else frame[mask]
        return chosen.groupby("student_id").size().reindex(self.s.index, fill_value=0)

    def _last(self, frame: pd.DataFrame, window: int):
        return frame["ordinal"] > frame["membership"] - window

    def absence_totals(self) -> None:
        s, absent = self.s, self.absent
        s["absent_units"] = self._sum(absent)
        for rank, column in KIND_COLUMNS.items():
            s[column] = self._sum(absent, absent["rank"] == rank) / self.unit
        s["tardy_days"] = self._count(self.tardy)
        # No membership is never a rate (SPEC §4: the rate is 0), whatever minimum a policy sets.
        s["chronic"], s["band"] = classify(s["absent_units"], s["membership_days"], unit=self.unit, policy=self.policy)
        s["absence_rate"] = _rate(s["absent_units"], s["membership_days"], self.unit)

    def current_school(self, spans: pd.DataFrame, calendar: _Calendar, asof: int, exit_inclusive: bool) -> None:
        open_now = spans[(spans["start"] <= asof) & (asof < spans["end"])]
        current = open_now.sort_values(["student_id", "start", "school_id"]).groupby("student_id")["school_id"].last()
        school = current.reindex(self.s.index)
        self.s["current_school_id"] = school.astype("Int64")
        remaining = np.zeros(len(school), dtype="int64")
        has = school.notna().to_numpy()
        ids = school[has].to_numpy("int64")
        remaining[has] = calendar.index(ids, np.full(len(ids), END_OF_TIME)) - calendar.index(
            ids, np.full(len(ids), asof + 1)
        )
        self.s["remaining_days"] = remaining
        self._outlook()

    def _outlook(self) -> None:
        s, t, unit = self.s, self.policy.chronic_threshold, self.unit
        total = (s["membership_days"] + s["remaining_days"]).to_numpy("int64")
        # absences_left = ceil(t·N − A/unit) − 1 = ceil((p·N·unit − q·A) / (q·unit)) − 1
        numerator = t.numerator * _integers(total, unit) * unit - t.denominator * _integers(s["absent_units"], unit)
        ceiling = -((-numerator) // (t.denominator * unit))
        s["absences_left"] = np.where(total > 0, np.maximum(0, ceiling - 1), 0).astype("int64")

    def signals(self) -> None:
        s, absent, tardy, window = self.s, self.absent, self.tardy, self.policy.recent_window
        unit = self.unit
        for name, mask in [
            ("first10_absent", absent["ordinal"] <= 10),
            ("last10_absent", self._last(absent, 10)),
            ("last20_absent", self._last(absent, 20)),
        ]:
            s[name] = self._sum(absent, mask) / unit
        s["last10_tardy"] = self._count(tardy, self._last(tardy, 10))
        s["last20_tardy"] = self._count(tardy, self._last(tardy, 20))
        membership = s["membership_days"].to_numpy()
        recent_units = self._sum(absent, self._last(absent, window))
        previous_units = self._sum(absent, self._last(absent, 2 * window) & ~self._last(absent, window))
        s["recent_rate"] = _ratio(recent_units / unit, np.minimum(window, membership))
        s["previous_rate"] = _ratio(previous_units / unit, np.clip(membership - window, 0, window))
        s["trend"] = s["recent_rate"] - s["previous_rate"]
        total = membership + s["remaining_days"].to_numpy()
        s["projected_rate"] = _ratio(s["absent_units"] / unit + s["recent_rate"] * s["remaining_days"], total)
        s["monfri_units"] = self._sum(absent, absent["weekday"].isin([MONDAY, FRIDAY]))
        s["monday_friday_share"] = _ratio(s["monfri_units"], s["absent_units"])
        s["longest_streak"] = self._longest_streak()

    def _longest_streak(self) -> pd.Series:
        absent = self.absent.sort_values(["student_id", "ordinal"], kind="stable")
        student, ordinal = absent["student_id"].to_numpy(), absent["ordinal"].to_numpy()
        breaks = np.ones(len(absent), dtype=bool)
        breaks[1:] = (student[1:] != student[:-1]) | (ordinal[1:] != ordinal[:-1] + 1)
        runs = pd.DataFrame({"student_id": student, "run": np.cumsum(breaks)})
        lengths = runs.groupby(["student_id", "run"]).size().groupby("student_id").max()
        return lengths.reindex(self.s.index, fill_value=0)

    def prior_years(self, prior: pd.DataFrame) -> None:
        s, policy = self.s, self.policy
        years = prior.assign(start=prior["school_year"].astype(str).str[:4].astype("int64"))
        years = years.sort_values(["student_id", "start"], ascending=[True, False], kind="stable")
        enrolled, absent = years["days_enrolled"].to_numpy("int64"), years["days_absent"].to_numpy("int64")
        years["chronic"] = chronic_status(absent, enrolled, unit=1, policy=policy)
        years["step"] = years.groupby("student_id").cumcount()
        latest = years[years["step"] == 0].set_index("student_id")
        latest_rate = pd.Series(_ratio(latest["days_absent"], latest["days_enrolled"]), index=latest.index)
        s["prior_rate"] = latest_rate.reindex(s.index, fill_value=0.0)
        s["prior_year_chronic"] = latest["chronic"].reindex(s.index, fill_value=False).astype(bool)
        first_start = years.groupby("student_id")["start"].transform("max")
        unbroken = years["chronic"] & (years["start"] == first_start - years["step"])
        streak = unbroken.groupby(years["student_id"]).cumprod().groupby(years["student_id"]).sum()
        prior_streak = streak.reindex(s.index, fill_value=0).astype("int64")
        s["chronic_years"] = np.where(s["chronic"], 1 + prior_streak, 0)

    def rules(self, tier2_ready: pd.Index) -> None:
        s, absent, tardy, unit = self.s, self.absent, self.tardy, self.unit
        membership, absent_units = s["membership_days"], s["absent_units"]
        fired: dict[str, pd.Series] = {}

        def at_least(units, days):
            return units >= days * unit

        def rate_at_least(fraction):
            return pd.Series(_exact_at_least(absent_units, unit, fraction, membership), index=s.index)

        r = self.policy.rule
        fired["t2_first_10_days"] = at_least(
            self._sum(absent, absent["ordinal"] <= r("t2_first_10_days").window), r("t2_first_10_days").days
        )
        fired["t2_recent_absences"] = at_least(
            self._sum(absent, self._last(absent, r("t2_recent_absences").window)), r("t2_recent_absences").days
        )
        at_risk = r("t2_at_risk_rate")
        fired["t2_at_risk_rate"] = (
            (membership >= max(1, at_risk.min_membership))
            & rate_at_least(at_risk.rate_low)
            & ~rate_at_least(at_risk.rate_high)
        )
        fired["t2_chronic"] = s["chronic"]
        fired["t2_prior_year_chronic"] = s["prior_year_chronic"] & at_least(
            absent_units, r("t2_prior_year_chronic").days
        )
        monfri = r("t2_monday_friday")
        fired["t2_monday_friday"] = at_least(absent_units, monfri.days) & (
            s["monfri_units"] * monfri.share.denominator >= monfri.share.numerator * absent_units
        )
        tardies = r("t2_tardies")
        fired["t2_tardies"] = self._count(tardy, self._last(tardy, tardies.window)) >= tardies.days
        severe = r("t3_severe_rate")
        fired["t3_severe_rate"] = (membership >= max(1, severe.min_membership)) & rate_at_least(severe.rate_low)
        fired["t3_absent_days"] = at_least(absent_units, r("t3_absent_days").days)
        fired["t3_after_tier2"] = s["chronic"] & s.index.isin(tier2_ready)
        fired["t3_repeat_chronic"] = s["prior_year_chronic"] & s["chronic"]

        enabled = [rule_id for rule_id in DEFAULT_RULES if self.policy.enabled(rule_id)]
        matrix = pd.DataFrame({rule_id: fired[rule_id].astype(bool) for rule_id in enabled}, index=s.index)
        s["rules"] = [tuple(rule for rule, hit in zip(enabled, row) if hit) for row in matrix.to_numpy()]
        tier3 = matrix[[rule for rule in enabled if RULE_TIERS[rule] == 3]].any(axis=1)
        tier2 = matrix[[rule for rule in enabled if RULE_TIERS[rule] == 2]].any(axis=1)
        s["tier"] = np.where(tier3, 3, np.where(tier2, 2, 0))

    def finished(self) -> pd.DataFrame:
        s = self.s
        s["absent_days"] = s["absent_units"] if self.unit == 1 else s["absent_units"] / self.unit
        for column in [
            "absent_excused",
            "absent_unexcused",
            "absent_suspension",
            "absent_partial",
            "first10_absent",
            "last10_absent",
            "last20_absent",
        ]:
            if self.unit == 1:
                s[column] = s[column].astype("int64")
        return s[STUDENT_COLUMNS]


def _tier2_ready(plans: pd.DataFrame | None, asof: int, policy: Policy) -> pd.Index:
    """Students with a Tier 2 plan old enough, and supported enough, to escalate if still chronic."""
    if plans is None or plans.empty:
        return pd.Index([], dtype="int64")
    rule = policy.rule("t3_after_tier2")
    old_enough = _days(plans["started"]) <= asof - 7 * rule.weeks
    ready = plans[old_enough & (plans["supports"].to_numpy() >= rule.supports)]
    return pd.Index(ready["student_id"].astype("int64").unique())


def _student_schools(
    spans: pd.DataFrame, complex_dates: pd.DataFrame, school_days: pd.DataFrame, policy: Policy, unit: int
) -> pd.DataFrame:
    simple = spans[~spans["complex"]].groupby(["student_id", "school_id"])["days"].sum()
    overlapping = complex_dates.groupby(["student_id", "school_id"]).size()
    pairs = spans[["student_id", "school_id"]].drop_duplicates().set_index(["student_id", "school_id"]).index
    membership = pd.concat([simple, overlapping]).reindex(pairs, fill_value=0).astype("int64")
    absent_units = school_days.groupby(["student_id", "school_id"])["units"].sum().reindex(pairs, fill_value=0)
    frame = membership.rename("membership_days").reset_index()
    units = absent_units.to_numpy("int64")
    days = frame["membership_days"].to_numpy()
    frame["absent_days"] = units if unit == 1 else units / unit
    frame["absence_rate"] = _rate(units, days, unit)
    frame["chronic"], frame["band"] = classify(units, days, unit=unit, policy=policy)
    return frame[STUDENT_SCHOOL_COLUMNS]
