"""The flag lifecycle: every change of a flag's status happens here.

Flags are the tiers app's state machine (SPEC §4). The nightly run opens them and follows
whether their rule still holds (services.flags_sync, with the set-based statements at the end of this
module deciding whether a fired rule may open a flag again); people move them on — outreach's huddle and action log, and
the cases app's Tier 3 cases — by calling these functions, never by writing a status
themselves. So the rules read in one place:

    Tier 2   new ──first contact──> in progress ──resolve──> resolved
              └──────────────escalate────────────┴──> escalated   (+ a Tier 3 referral flag)
    Tier 3   new ──case opened──> in progress ──case closed──> resolved
              ├──keep in Tier 2 for now (a review date)──> new, off the agenda until then
              └──rule lapsed 10 school days: ready to close──resolve──> resolved

A closed flag (resolved or escalated) never reopens. "Resolved means resolved": once the team
has resolved a student, a flag opens for them again only when a rule fires anew after the
resolution *with absences dated after it* — a new flag that names the one it follows.

Every transition people make is written as a FlagEvent (who, when, from, to, why), including a
resolution the data contradicted and that someone confirmed anyway.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from districts.models import Membership
from students.models import Student

from .models import CalculationPolicy, Flag, FlagEvent, StudentMetrics
from .partitions import analyze_without_json
from .policy import RULE_LABELS
from .why import CASE_OPENED, why_of

ESCALATION_RULE = "t3_after_tier2"  # "Still chronic after Tier 2 supports": what the team decided
READY_TO_CLOSE_DAYS = 10  # school days a flag's rule has not held before the team is asked to close it
KEEP_IN_TIER2_MAX_DAYS = 62  # "keep in Tier 2 for now" is reviewed within two months (SPEC §6: reviews every 2-4 weeks)
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
    fields; `school_days_between(a, b)` counts the school days after a, up to and including b.

    Tier 3 the same way, with one exception: a Tier 3 flag in progress belongs to an open case,
    and the case's outcome closes it (flags_case_closed), never a lapse of its rule — a student
    whose rate fell below 20% mid-plan is the plan working, not a reason to drop the case. A
    Tier 3 trigger nobody has taken up yet (new) whose rule stopped holding is just a stale
    trigger: left alone it would sit at the top of every huddle all year, so it is offered for
    closing with its figures then and now, like a Tier 2 flag."""
    get = flag.get if isinstance(flag, dict) else lambda name: getattr(flag, name)
    if get("currently_met") or get("status") not in Flag.OPEN_STATUSES:
        return False
    if get("tier") == 3 and get("status") != Flag.Status.NEW:
        return False  # a case's flag
    since = max(filter(None, [get("last_met"), get("kept_open_on")]))
    return school_days_between(since, as_of) >= READY_TO_CLOSE_DAYS


# ----------------------------------------------------------------------------- Tier 3: referrals and cases


@transaction.atomic
def flags_keep_in_tier2(
    *,
    flags: Iterable[Flag] | QuerySet,
    reason: str,
    until: datetime.date | None,
    on: datetime.date | None = None,
    by: Membership | None = None,
) -> list[Flag]:
    """The team's third answer to a Tier 3 escalation candidate, beside "escalate" and "close":
    Tier 2 work continues for now (a support just started, the family asked for two weeks).
    The waiting Tier 3 triggers among `flags` stay open but leave the escalation agenda and the
    counselors' queue until `until`, the review date; they come back then if their rule still
    holds (kept_in_tier2). Recorded on each flag, and as an event with who, when and why."""
    on = on or _today()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": gettext("Say why Tier 2 continues for now.")})
    if until is None or until <= on:
        raise ValidationError({"until": gettext("Choose a review date after today.")})
    if until > on + datetime.timedelta(days=KEEP_IN_TIER2_MAX_DAYS):
        raise ValidationError(
            {"until": gettext("Review within %(days)s days: a Tier 3 trigger is not put aside for longer.")
             % {"days": KEEP_IN_TIER2_MAX_DAYS}}
        )  # fmt: skip
    targets = [flag for flag in _locked(flags, statuses=[Flag.Status.NEW]) if flag.tier == 3]
    if not targets:
        raise ValidationError(gettext("No Tier 3 trigger is waiting for this student."))
    _same_district(by, targets)
    return _move(
        targets, to=Flag.Status.NEW, kind=FlagEvent.Kind.KEPT_IN_TIER2, on=on, by=by, note=reason,
        detail={"until": until.isoformat()}, kept_in_tier2_until=until, kept_in_tier2_reason=reason[:300],
    )  # fmt: skip


def kept_in_tier2(flag, *, on: datetime.date) -> bool:
    """Whether "keep in Tier 2 for now" still keeps this Tier 3 trigger off the escalation agenda
    and the queue on `on`: before its review date, and after it while the rule does not hold
    (it comes back only when the rule still holds at the review). `flag`: a Flag or a dict."""
    get = flag.get if isinstance(flag, dict) else lambda name: getattr(flag, name)
    until = get("kept_in_tier2_until")
    return until is not None and (until > on or not get("currently_met"))


def kept_in_tier2_q(*, on: datetime.date) -> models.Q:
    """kept_in_tier2 as a filter, for the counselors' queue."""
    return models.Q(kept_in_tier2_until__gt=on) | models.Q(kept_in_tier2_until__isnull=False, currently_met=False)


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


# The nightly sync, set-based: every statement reads the run's staged candidates (one row per
# fired student and rule, tiers.flag_candidates) beside tiers_flag, so no process holds the
# district's flags or results. In order:
#
# 1. A flag whose rule did not fire tonight no longer holds (currently_met off): an open one
#    lapses (it may come up as ready to close); a closed one's episode ends, so the rule firing
#    again later may open a new flag.
# 2. An open flag whose rule fired holds as of tonight; one that had lapsed holds again, with
#    tonight's figures as its why (a new episode).
# 3. A fired rule with no open flag opens one, unless a closed flag of the same rule still holds
#    (the team's decision stands while it holds), and — "resolved means resolved" — unless the
#    team resolved the student on day R and no absence after R has been counted (tardies count
#    for the tardy rule). A new flag names the resolved flag it comes back after: the latest of
#    the same rule, else the latest of any rule.
FLAGS_NO_LONGER_MET_SQL = """
    UPDATE tiers_flag SET currently_met = %(false)s
    WHERE district_id = %(district_id)s AND currently_met = %(true)s AND NOT EXISTS (
        SELECT 1 FROM {candidates} c WHERE c.student_id = tiers_flag.student_id AND c.rule = tiers_flag.rule
    )
"""
FLAGS_HOLDING_SQL = """
    UPDATE tiers_flag SET
        last_met = %(as_of)s,
        why_code = CASE WHEN tiers_flag.currently_met = %(true)s OR c.why_params IS NULL
                        THEN tiers_flag.why_code ELSE tiers_flag.rule END,
        why_params = CASE WHEN tiers_flag.currently_met = %(true)s OR c.why_params IS NULL
                          THEN tiers_flag.why_params ELSE {why} END,
        currently_met = %(true)s
    FROM {candidates} c
    WHERE tiers_flag.district_id = %(district_id)s AND tiers_flag.status IN ('new', 'in_progress')
      AND c.student_id = tiers_flag.student_id AND c.rule = tiers_flag.rule
      AND (tiers_flag.currently_met = %(false)s OR tiers_flag.last_met <> %(as_of)s)
"""
# Step 3 in two statements: the candidates that open a flag are marked first (reading tiers_flag),
# then inserted (reading only the candidates). One INSERT … SELECT that also read tiers_flag
# re-read the table it was filling for every row it added: quadratic, minutes at 200,000 students.
FLAGS_TO_OPEN_SQL = """
    UPDATE {candidates} SET opens = %(true)s, follows_id = COALESCE(
        (SELECT f.id FROM tiers_flag f
         WHERE f.district_id = %(district_id)s AND f.student_id = {candidates}.student_id
           AND f.rule = {candidates}.rule AND f.status = 'resolved' AND f.resolved_on IS NOT NULL
         ORDER BY f.resolved_on DESC, f.id DESC LIMIT 1),
        (SELECT f.id FROM tiers_flag f
         WHERE f.district_id = %(district_id)s AND f.student_id = {candidates}.student_id
           AND f.status = 'resolved' AND f.resolved_on IS NOT NULL
         ORDER BY f.resolved_on DESC, f.id DESC LIMIT 1)
    )
    WHERE why_params IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM tiers_flag f
        WHERE f.district_id = %(district_id)s AND f.student_id = {candidates}.student_id
          AND f.rule = {candidates}.rule AND (f.status IN ('new', 'in_progress') OR f.currently_met = %(true)s)
    ) AND (rule IN ({not_about_absences}) OR NOT EXISTS (
        SELECT 1 FROM tiers_flag f
        WHERE f.district_id = %(district_id)s AND f.student_id = {candidates}.student_id
          AND f.status = 'resolved' AND f.resolved_on IS NOT NULL
          AND (last_absence IS NULL OR f.resolved_on >= last_absence)
    ))
"""
FLAGS_OPEN_SQL = """
    INSERT INTO tiers_flag (
        district_id, student_id, rule, tier, status, first_met, last_met, currently_met, why_code, why_params,
        policy_version, resolved_on, resolution, follows_id, kept_open_on, kept_open_reason, kept_in_tier2_until,
        kept_in_tier2_reason, created_at, updated_at
    )
    SELECT %(district_id)s, c.student_id, c.rule, c.tier, 'new', %(as_of)s, %(as_of)s, %(true)s, c.rule, {why},
        %(version)s, NULL, '', c.follows_id, NULL, '', NULL, '', %(now)s, %(now)s
    FROM {candidates} c
    WHERE c.opens = %(true)s
    ORDER BY c.student_id, c.rule
"""


def flags_statistics_refresh() -> None:
    """Fresh planner statistics for tiers_flag before a sync: after a night that opened thousands
    of flags (a district's first run opens every one) the planner would otherwise take the table
    for nearly empty and re-scan it for every candidate (171 s instead of 0.2 s at 200,000
    students). Called outside the sync's transaction: ANALYZE holds its lock until commit, which
    would make every other district's sync wait for this one's swap."""
    if connection.vendor == "postgresql":
        analyze_without_json("tiers_flag")


def flags_sync_from_candidates(*, district_id: int, candidates: str, as_of: datetime.date, policy_version: int) -> int:
    """Bring every flag of the district in line with the run's staged candidates (the table
    `candidates`, tiers.flag_candidates); returns the number of flags opened. Inside the
    caller's transaction, which also swaps the run in.

    A pair staged without a why (it had an open flag that held when its chunk was computed) that
    needs one here can only come from another run of the district syncing in between: a flag that
    held again keeps its earlier why, and no flag opens for such a pair until the next run."""
    why = "c.why_params::jsonb" if connection.vendor == "postgresql" else "c.why_params"
    not_about_absences = ", ".join(f"'{rule}'" for rule in sorted(NOT_ABOUT_ABSENCES))
    params = {
        "district_id": district_id, "as_of": as_of, "version": policy_version, "now": timezone.now(),
        "true": True, "false": False,
    }  # fmt: skip
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these statements (JIT) took longer than running them: ≈ 1.4 s each.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(FLAGS_NO_LONGER_MET_SQL.format(candidates=_quoted(candidates)), params)
        cursor.execute(FLAGS_HOLDING_SQL.format(candidates=_quoted(candidates), why=why), params)
        cursor.execute(
            FLAGS_TO_OPEN_SQL.format(candidates=_quoted(candidates), not_about_absences=not_about_absences), params
        )
        cursor.execute(FLAGS_OPEN_SQL.format(candidates=_quoted(candidates), why=why), params)
        return cursor.rowcount


def _quoted(table: str) -> str:
    if not table.replace("_", "").isalnum():
        raise ValueError(f"Not a staging table name: {table!r}")
    return f'"{table}"'
