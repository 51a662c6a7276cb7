"""The flag lifecycle: every change of a flag's status happens here.

Flags are the tiers app's state machine (SPEC §4). The nightly run opens them and follows
whether their rule still holds (services.flags_sync, which asks `flags_openable` here whether a
fired rule may open a flag again); people move them on — outreach's huddle and action log, and
the cases app's Tier 3 cases — by calling these functions, never by writing a status
themselves. So the rules read in one place:

    Tier 2   new ──first contact──> in progress ──resolve──> resolved
              └──────────────escalate────────────┴──> escalated   (+ a Tier 3 referral flag)
    Tier 3   new ──case opened──> in progress ──case closed──> resolved

A closed flag (resolved or escalated) never reopens. "Resolved means resolved": once the team
has resolved a student, a flag opens for them again only when a rule fires anew after the
resolution *with absences dated after it* — a new flag that names the one it follows.

Every transition people make is written as a FlagEvent (who, when, from, to, why), including a
resolution the data contradicted and that someone confirmed anyway.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import NamedTuple

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from districts.models import Membership
from students.models import Student

from .models import CalculationPolicy, Flag, FlagEvent, StudentMetrics
from .policy import RULE_LABELS
from .why import CASE_OPENED, why_of

ESCALATION_RULE = "t3_after_tier2"  # "Still chronic after Tier 2 supports": what the team decided
READY_TO_CLOSE_DAYS = 10  # school days a flag's rule has not held before the team is asked to close it
# Rules that keep holding all year once met: "improved" cannot make them lapse.
HOLDS_ALL_YEAR = {"t2_first_10_days", "t2_prior_year_chronic"}
# Tardies are not absences: a new tardy flag needs no new absence to open.
NOT_ABOUT_ABSENCES = {"t2_tardies"}


class Resolution(models.TextChoices):
    IMPROVED = "improved", _("Attendance improved")
    BARRIER_REMOVED = "barrier_removed", _("Barrier removed")
    PLAN_IN_PLACE = "plan_in_place", _("Family engaged, plan working")
    LEFT_SCHOOL = "left_school", _("Moved or withdrew")
    DATA_ERROR = "data_error", _("Absences were recorded in error")
    OTHER = "other", _("Other")


class ResolutionContradicted(ValidationError):
    """The data says otherwise (still chronic, the rule still holds, still enrolled): the caller
    asks the person to confirm, then resolves again with `confirmed=True`."""

    def __init__(self, contradictions: list[str]):
        self.contradictions = contradictions
        super().__init__(
            gettext("The figures disagree with this reason: %(list)s. Confirm to resolve anyway.")
            % {"list": "; ".join(contradictions)}
        )


def _today() -> datetime.date:
    return timezone.localdate()


def _move(
    flags: list[Flag],
    *,
    to: str,
    kind: str,
    on: datetime.date,
    by: Membership | None,
    note: str = "",
    detail: dict | None = None,
    **fields,
) -> list[Flag]:
    """The one place a status is written: the flags (already locked) and an event for each."""
    if not flags:
        return []
    Flag.objects.filter(pk__in=[flag.pk for flag in flags]).update(status=to, updated_at=timezone.now(), **fields)
    FlagEvent.objects.bulk_create(
        [
            FlagEvent(
                district_id=flag.district_id,
                flag=flag,
                kind=kind,
                from_status=flag.status,
                to_status=to,
                on=on,
                by=by,
                note=note[:300],
                detail=detail or {},
            )
            for flag in flags
        ]
    )
    for flag in flags:
        flag.status = to
        for name, value in fields.items():
            setattr(flag, name, value)
    return flags


def _locked(flags: Iterable[Flag] | QuerySet, statuses=Flag.OPEN_STATUSES) -> list[Flag]:
    """The flags among `flags` still in one of `statuses`, locked until the transaction ends."""
    ids = flags.values("pk") if isinstance(flags, QuerySet) else [flag.pk for flag in flags]
    return list(Flag.objects.select_for_update().filter(pk__in=ids, status__in=statuses).order_by("pk"))


def _same_district(by: Membership | None, flags: list[Flag]) -> None:
    if by is not None and any(flag.district_id != by.district_id for flag in flags):
        raise ValidationError(gettext("That flag belongs to another district."))


def _policy_version() -> int:
    return CalculationPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 1


# ----------------------------------------------------------------------------- Tier 2: work and outcomes


@transaction.atomic
def flags_start_work(*, student: Student, on: datetime.date | None = None, by: Membership | None = None) -> list[Flag]:
    """The first contact logged for a student moves their new Tier 2 flags into progress."""
    flags = _locked(Flag.objects.filter(student=student, tier=2), statuses=[Flag.Status.NEW])
    return _move(flags, to=Flag.Status.IN_PROGRESS, kind=FlagEvent.Kind.IN_PROGRESS, on=on or _today(), by=by)


def resolution_text(reason: str, note: str = "", contradictions: Iterable[str] = ()) -> str:
    """The words a resolution is kept with; a confirmed contradiction is part of the record."""
    label = str(dict(Resolution.choices)[reason])
    text = label + (f": {note.strip()}" if note.strip() else "")
    if contradictions:
        text += " " + gettext("(confirmed although %(list)s)") % {"list": "; ".join(contradictions)}
    return text


class Resolved(NamedTuple):
    flags: list[Flag]
    text: str  # the resolution as recorded, with any contradiction that was confirmed


@transaction.atomic
def flags_resolve(
    *,
    flags: Iterable[Flag] | QuerySet,
    reason: str,
    note: str = "",
    on: datetime.date | None = None,
    by: Membership | None = None,
    confirmed: bool = False,
) -> Resolved:
    """Close the open flags among `flags` as resolved. A reason the figures contradict raises
    ResolutionContradicted unless `confirmed`; a confirmed one records what it overrode."""
    if reason not in Resolution.values:
        raise ValidationError({"reason": gettext("Choose why the flags are resolved.")})
    targets = _locked(flags)
    _same_district(by, targets)
    contradictions = resolution_contradictions(reason=reason, flags=targets)
    if contradictions and not confirmed:
        raise ResolutionContradicted(contradictions)
    text = resolution_text(reason, note, contradictions)
    detail = {"reason": reason, **({"contradictions": contradictions, "confirmed": True} if contradictions else {})}
    on = on or _today()
    moved = _move(
        targets, to=Flag.Status.RESOLVED, kind=FlagEvent.Kind.RESOLVED, on=on, by=by, note=text, detail=detail,
        resolved_on=on, resolution=text[:200],
    )  # fmt: skip
    return Resolved(moved, text)


def resolution_contradictions(*, reason: str, flags: list[Flag]) -> list[str]:
    """What the current figures say against `reason`, in words; empty when nothing does.

    "Attendance improved" is contradicted by a student still chronically absent, or by a
    flag whose rule still holds; "moved or withdrew" by a student still enrolled."""
    if reason not in (Resolution.IMPROVED, Resolution.LEFT_SCHOOL) or not flags:
        return []
    students = sorted({flag.student_id for flag in flags})
    metrics = {
        m.student_id: m
        for m in StudentMetrics.objects.filter(run__is_current=True, student_id__in=students).select_related(
            "student", "current_school", "run__policy"
        )
    }
    found = []
    for student_id in students:
        metric = metrics.get(student_id)
        said = []
        if reason == Resolution.IMPROVED:
            if metric is not None and metric.chronic:
                said.append(
                    gettext("still %(rate)s absent, at or above the %(line)s%% chronic line")
                    % {"rate": _pct(metric.absence_rate), "line": _number(metric.run.policy.chronic_threshold_pct)}
                )
            for flag in flags:
                if flag.student_id == student_id and flag.currently_met and flag.rule not in HOLDS_ALL_YEAR:
                    said.append(
                        gettext("“%(rule)s” still holds (%(date)s)")
                        % {"rule": RULE_LABELS.get(flag.rule, flag.rule), "date": date_format(flag.last_met)}
                    )
        elif metric is not None and metric.current_school_id and metric.remaining_days:
            said.append(
                gettext("still enrolled at %(school)s as of %(date)s")
                % {"school": metric.current_school.name, "date": date_format(metric.run.as_of)}
            )
        if said and len(students) > 1 and metric is not None:
            said = [f"{metric.student.full_name}: {text}" for text in said]
        found.extend(said)
    return found


def _pct(value) -> str:
    return f"{float(value) * 100:.1f}%"


def _number(value) -> str:
    return f"{value.normalize():f}"


@transaction.atomic
def flags_keep_open(
    *, flags: Iterable[Flag] | QuerySet, reason: str, on: datetime.date | None = None, by: Membership | None = None
) -> list[Flag]:
    """The team keeps a flag that is ready to close open, saying why. It is not offered for
    closing again until its rule has gone another READY_TO_CLOSE_DAYS school days without holding."""
    if not reason.strip():
        raise ValidationError({"reason": gettext("Say why the flag stays open.")})
    targets = _locked(flags)
    _same_district(by, targets)
    on = on or _today()
    for flag in targets:
        _move(
            [flag], to=flag.status, kind=FlagEvent.Kind.KEPT_OPEN, on=on, by=by, note=reason.strip(),
            kept_open_on=on, kept_open_reason=reason.strip()[:300],
        )  # fmt: skip
    return targets


def ready_to_close(flag, *, as_of: datetime.date, school_days_between: Callable[[datetime.date, datetime.date], int]):
    """An open flag whose rule has not held for READY_TO_CLOSE_DAYS school days up to `as_of`
    (counted again from the day the team last kept it open). `flag` is a Flag or a dict of its
    fields; `school_days_between(a, b)` counts the school days after a, up to and including b."""
    get = flag.get if isinstance(flag, dict) else lambda name: getattr(flag, name)
    if get("currently_met") or get("status") not in Flag.OPEN_STATUSES:
        return False
    since = max(filter(None, [get("last_met"), get("kept_open_on")]))
    return school_days_between(since, as_of) >= READY_TO_CLOSE_DAYS


# ----------------------------------------------------------------------------- Tier 3: referrals and cases


@transaction.atomic
def flag_refer_to_tier3(
    *, student: Student, why: str, on: datetime.date | None = None, by: Membership | None = None
) -> Flag:
    """A Tier 3 flag in the counselors' queue for a student the team refers: the open one if
    there is one (the referral is noted on it), else a new one carrying `why`."""
    on = on or _today()
    existing = _locked(Flag.objects.filter(student=student, rule=ESCALATION_RULE))
    if existing:
        flag = existing[0]
        _move([flag], to=flag.status, kind=FlagEvent.Kind.REFERRED, on=on, by=by, note=why)
        return flag
    flag = Flag.objects.create(
        district_id=student.district_id, student=student, rule=ESCALATION_RULE, tier=3, status=Flag.Status.NEW,
        first_met=on, last_met=on, policy_version=_policy_version(), why=why,
    )  # fmt: skip
    FlagEvent.objects.create(
        district_id=flag.district_id, flag=flag, kind=FlagEvent.Kind.REFERRED, to_status=Flag.Status.NEW, on=on, by=by,
        note=why[:300],
    )  # fmt: skip
    return flag


@transaction.atomic
def flags_escalate(
    *,
    student: Student,
    flags: Iterable[Flag] | QuerySet,
    reason: str,
    why: str,
    on: datetime.date | None = None,
    by: Membership | None = None,
) -> tuple[Flag, list[Flag]]:
    """Refer the student to Tier 3 (flag_refer_to_tier3, with `why`) and close their open Tier 2
    flags among `flags` as escalated. Returns the Tier 3 flag and the flags it closed."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": gettext("Say why the student needs Tier 3 support.")})
    on = on or _today()
    tier3 = flag_refer_to_tier3(student=student, why=why, on=on, by=by)
    tier2 = [flag for flag in _locked(flags) if flag.tier == 2 and flag.student_id == student.pk]
    _same_district(by, tier2)
    text = gettext("Escalated to Tier 3: %(reason)s") % {"reason": reason}
    escalated = _move(
        tier2, to=Flag.Status.ESCALATED, kind=FlagEvent.Kind.ESCALATED, on=on, by=by, note=text,
        detail={"tier3_flag": tier3.pk}, resolved_on=on, resolution=text[:200],
    )  # fmt: skip
    return tier3, escalated


@transaction.atomic
def flags_case_opened(
    *, student: Student, on: datetime.date | None = None, by: Membership | None = None, why: str = ""
) -> list[Flag]:
    """A counselor opened a Tier 3 case for the student: their open Tier 3 flags are taken up
    (in progress), which takes the student out of the queue and off the huddle. A case opened
    without any Tier 3 flag (from the student page) gets one, so every case has its flag."""
    on = on or _today()
    flags = _locked(Flag.objects.filter(student=student, tier=3))
    if not flags:
        why = why or why_of(CASE_OPENED, {"date": on.isoformat()})  # read in each reader's language
        flags = [flag_refer_to_tier3(student=student, why=why, on=on, by=by)]
    _same_district(by, flags)
    waiting = [flag for flag in flags if flag.status == Flag.Status.NEW]
    _move(waiting, to=Flag.Status.IN_PROGRESS, kind=FlagEvent.Kind.CASE_OPENED, on=on, by=by, note=why)
    return flags


@transaction.atomic
def flags_case_closed(
    *, student: Student, outcome: str, on: datetime.date | None = None, by: Membership | None = None
) -> list[Flag]:
    """The student's Tier 3 case closed: their open Tier 3 flags are resolved with the outcome."""
    on = on or _today()
    flags = _locked(Flag.objects.filter(student=student, tier=3))
    _same_district(by, flags)
    text = (
        gettext("Case closed: %(outcome)s") % {"outcome": outcome.strip()}
        if outcome.strip()
        else gettext("Case closed")
    )
    return _move(
        flags, to=Flag.Status.RESOLVED, kind=FlagEvent.Kind.CASE_CLOSED, on=on, by=by, note=text,
        resolved_on=on, resolution=text[:200],
    )  # fmt: skip


# ----------------------------------------------------------------------------- the nightly run's side


def flags_openable(candidates: pd.DataFrame, fired: pd.DataFrame, absences: pd.DataFrame) -> pd.DataFrame:
    """Which newly fired (student, rule) pairs without an open flag may open one tonight, with
    `follows_id`: the resolved flag a new one comes back after (else missing).

    - A closed flag whose rule keeps holding is the team's decision: no new flag while it holds
      (its episode ends the night the rule stops holding, which is recorded on it).
    - Resolved means resolved: for a student the team resolved on day R, a rule opens a flag
      again only with an absence dated after R (tardies count for the tardy rule).
    """
    closed = pd.DataFrame(
        list(
            Flag.objects.exclude(status__in=Flag.OPEN_STATUSES)
            .filter(currently_met=True)
            .values("id", "student_id", "rule")
        ),
        columns=["id", "student_id", "rule"],
    )
    still = closed.merge(fired, on=["student_id", "rule"])
    ended = closed[~closed["id"].isin(still["id"])]
    Flag.objects.filter(pk__in=[int(pk) for pk in ended["id"]]).update(currently_met=False)
    held = candidates.merge(
        still[["student_id", "rule"]].drop_duplicates(), on=["student_id", "rule"], how="left", indicator="closed"
    )
    candidates = candidates[(held["closed"] == "left_only").to_numpy()]

    resolved = _resolved_flags(candidates["student_id"].unique().tolist())
    if resolved.empty:
        return candidates.assign(follows_id=pd.array([pd.NA] * len(candidates), dtype="Int64"))
    resolved = resolved.sort_values(["resolved_on", "id"])
    last_resolution = resolved.groupby("student_id")["resolved_on"].max()
    last_absence = pd.to_datetime(absences.groupby("student_id")["date"].max())
    resolved_on = pd.to_datetime(candidates["student_id"].map(last_resolution))
    absent_since = pd.to_datetime(candidates["student_id"].map(last_absence))
    allowed = resolved_on.isna() | (absent_since > resolved_on) | candidates["rule"].isin(NOT_ABOUT_ABSENCES)
    candidates = candidates[allowed.to_numpy()]
    same_rule = resolved.groupby(["student_id", "rule"])["id"].last()
    any_rule = resolved.groupby("student_id")["id"].last()
    keys = pd.MultiIndex.from_frame(candidates[["student_id", "rule"]])
    follows = pd.Series(same_rule.reindex(keys).to_numpy(), index=candidates.index)
    follows = follows.fillna(candidates["student_id"].map(any_rule))
    return candidates.assign(follows_id=follows.astype("Int64"))


def _resolved_flags(student_ids: list[int]) -> pd.DataFrame:
    columns = ["id", "student_id", "rule", "resolved_on"]
    rows = []
    for start in range(0, len(student_ids), 10_000):
        rows += Flag.objects.filter(
            status=Flag.Status.RESOLVED, resolved_on__isnull=False, student_id__in=student_ids[start : start + 10_000]
        ).values_list(*columns)
    return pd.DataFrame(rows, columns=columns)
