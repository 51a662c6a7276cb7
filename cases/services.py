"""Writes of the cases app: the partner directory, opening and closing cases, the plan, and the
records around it (interventions, referrals, meetings, reviews).

Callers run inside the district's scope and check who may act (cases.permissions); these
functions check that every object they join shares the district, keep the measured timers,
and hold the two rules no caller may skip: the support-first guard on legal referrals, and
guardian consent before any record is shared with a partner. Every date may be in the past:
records are often entered after the fact.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import AuditEvent, District, Membership, Role, RoleGrant
from districts.services import audit_record
from outreach.models import Barrier
from students.models import Enrollment, Student
from tiers import lifecycle
from tiers.models import Flag, StudentMetrics

from . import guard, progress
from .defaults import case_settings
from .models import (
    REVIEW_EVERY_MAX_DAYS,
    REVIEW_EVERY_MIN_DAYS,
    Case,
    CaseFlag,
    CaseOutcome,
    Intervention,
    InterventionKind,
    Meeting,
    Partner,
    Referral,
    Review,
)


class GuardRefused(ValidationError):
    """A legal referral the support-first guard refuses: `missing` lists the failing codes."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        labels = [str(guard.GUARD_LABELS[code]) for code in missing]
        super().__init__(_("Supports must come first. Still missing: %(list)s") % {"list": " ".join(labels)})


def _today() -> datetime.date:
    return timezone.localdate()


def _same_district(district_id: int, **objects) -> None:
    for name, obj in objects.items():
        if obj is not None and getattr(obj, "district_id", district_id) != district_id:
            raise ValidationError({name: _("That belongs to another district.")})


def _barrier_codes(codes, field: str) -> list[str]:
    if not isinstance(codes, list | tuple):
        raise ValidationError({field: _("Give a list of barrier codes.")})
    unknown = [code for code in codes if code not in Barrier.values]
    if unknown:
        raise ValidationError(
            {field: _("Unknown barrier: %(codes)s. Use one of %(known)s.")
             % {"codes": ", ".join(map(str, unknown)), "known": ", ".join(Barrier.values)}}
        )  # fmt: skip
    return list(dict.fromkeys(codes))  # once each, in the order given


def _audit(*, by: Membership, action: str, object_type: str, obj, label: str, student_id: int, request=None, **detail):
    audit_record(
        district=by.district if request is None else request.district, user=by.user, action=action,
        object_type=object_type, object_id=obj.pk, object_label=label, request=request, detail=detail,
        students=[student_id],
    )  # fmt: skip


# ----------------------------------------------------------------------------- partner directory

PARTNER_FIELDS = [
    "name", "services", "eligibility", "contact_name", "phone", "email", "website", "intake_process",
    "expected_response_days", "connection_definition", "is_active",
]  # fmt: skip


def partner_create(*, district: District, name: str, services: list[str], expected_response_days: int, **fields):
    unknown = set(fields) - set(PARTNER_FIELDS)
    if unknown:
        raise ValueError(f"Not partner fields: {', '.join(sorted(unknown))}")
    partner = Partner(
        district=district, name=name.strip(), services=_barrier_codes(services, "services"),
        expected_response_days=expected_response_days, **fields,
    )  # fmt: skip
    _partner_save(partner)
    return partner


def partner_update(*, partner: Partner, **changes) -> Partner:
    unknown = set(changes) - set(PARTNER_FIELDS)
    if unknown:
        raise ValueError(f"Not partner fields: {', '.join(sorted(unknown))}")
    if "services" in changes:
        changes["services"] = _barrier_codes(changes["services"], "services")
    for name, value in changes.items():
        setattr(partner, name, value.strip() if isinstance(value, str) else value)
    _partner_save(partner)
    return partner


def _partner_save(partner: Partner) -> None:
    if Partner.objects.filter(name__iexact=partner.name).exclude(pk=partner.pk).exists():
        raise ValidationError({"name": _("The directory already lists a partner with this name.")})
    partner.full_clean(exclude=["district"])
    partner.save()


# ----------------------------------------------------------------------------- opening a case


def student_current_school_id(student: Student, on: datetime.date) -> int | None:
    """The school whose team acts for the student: the current run's, else the enrollment open
    on the date, else the latest one."""
    current = StudentMetrics.objects.filter(run__is_current=True, student=student).values_list(
        "current_school_id", flat=True
    )
    school_id = current.first()
    if school_id:
        return school_id
    stays = list(Enrollment.objects.filter(student=student).order_by("-entry_date"))
    chosen = [s for s in stays if s.entry_date <= on and (s.exit_date is None or s.exit_date > on)] or stays
    return chosen[0].school_id if chosen else None


def lead_choices(*, school_id: int | None):
    """Who can lead a case at the school: its counselors."""
    if school_id is None:
        return Membership.objects.none()
    grants = RoleGrant.objects.filter(role=Role.COUNSELOR, school_id=school_id).values("membership_id")
    return Membership.objects.filter(is_active=True, pk__in=grants).select_related("user")


def case_lead_choices(*, case: Case, on: datetime.date):
    """Who can take the case over: its school's counselors and, once the student has moved, the
    new school's (case_assign_lead moves the case there)."""
    school_ids = {case.school_id, student_current_school_id(case.student, on)} - {None}
    grants = RoleGrant.objects.filter(role=Role.COUNSELOR, school_id__in=school_ids).values("membership_id")
    return Membership.objects.filter(is_active=True, pk__in=grants).select_related("user")


def _check_lead(lead: Membership, school_id: int | None) -> None:
    if not lead_choices(school_id=school_id).filter(pk=lead.pk).exists():
        raise ValidationError({"lead": _("The case lead must be a counselor of the student's school.")})


@transaction.atomic
def case_open(
    *,
    student: Student,
    by: Membership,
    lead: Membership | None = None,
    flag: Flag | None = None,
    opened_on: datetime.date | None = None,
) -> Case:
    """Open a Tier 3 case for the student with a named lead (the opener by default). The
    student's open Tier 3 flags are taken up (tiers.lifecycle); the earliest one is the
    trigger that the timers count from."""
    district_id = by.district_id
    lead = lead or by
    _same_district(district_id, student=student, lead=lead, flag=flag)
    opened_on = opened_on or _today()
    if opened_on > _today():
        raise ValidationError({"opened_on": _("A case cannot open in the future.")})
    if flag is not None and (flag.student_id != student.pk or flag.tier != 3 or not flag.is_open):
        raise ValidationError({"flag": _("That is not an open Tier 3 flag of this student.")})
    Student.objects.select_for_update().filter(pk=student.pk).first()  # one opener at a time
    if Case.objects.filter(student=student, status=Case.Status.OPEN).exists():
        raise ValidationError({"student": _("This student already has an open case.")})
    school_id = student_current_school_id(student, opened_on)
    _check_lead(lead, school_id)
    waiting = list(Flag.objects.filter(student=student, tier=3, status__in=Flag.OPEN_STATUSES))
    triggered_on = min((f.first_met for f in waiting), default=None)
    case = Case(
        district_id=district_id, student=student, school_id=school_id, lead=lead, opened_on=opened_on, opened_by=by,
        triggered_on=triggered_on, lead_assigned_on=opened_on, days_to_lead=_days_between(triggered_on, opened_on),
        review_every_days=case_settings(by.district).review_every_days,
    )  # fmt: skip
    case.full_clean()
    case.save()
    flags = lifecycle.flags_case_opened(student=student, on=opened_on, by=by)
    CaseFlag.objects.bulk_create([CaseFlag(district_id=district_id, case=case, flag=f) for f in flags])
    _schedule(case)
    return case


def _days_between(start: datetime.date | None, end: datetime.date | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


@transaction.atomic
def case_assign_lead(*, case: Case, lead: Membership, by: Membership) -> Case:
    """Hand the case to another counselor. The timer keeps the first assignment; a counselor of
    the student's new school takes the case there."""
    _same_district(case.district_id, lead=lead, by=by)
    _require_open(case)
    current = student_current_school_id(case.student, _today())
    if current != case.school_id and lead_choices(school_id=current).filter(pk=lead.pk).exists():
        case.school_id = current
    else:
        _check_lead(lead, case.school_id)
    case.lead = lead
    case.save(update_fields=["lead", "school", "updated_at"])
    return case


def _require_open(case: Case) -> None:
    if not case.is_open:
        raise ValidationError(_("This case is closed."))


# ----------------------------------------------------------------------------- the plan


@transaction.atomic
def case_plan_update(*, case: Case, by: Membership, **changes) -> Case:
    """Barriers, the goal (target attendance rate by a date), the plan's start and the review
    schedule. Only the fields given change."""
    _same_district(case.district_id, by=by)
    _require_open(case)
    allowed = {"barriers", "goal_rate", "goal_by", "plan_started_on", "review_every_days"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Not plan fields: {', '.join(sorted(unknown))}")
    if "barriers" in changes:
        changes["barriers"] = _barrier_codes(changes["barriers"], "barriers")
    if changes.get("goal_rate") is not None:
        changes["goal_rate"] = _goal_rate(changes["goal_rate"])
    for name, value in changes.items():
        setattr(case, name, value)
    if case.goal_by and case.plan_started_on and case.goal_by <= case.plan_started_on:
        raise ValidationError({"goal_by": _("The goal date must come after the plan starts.")})
    case.full_clean(exclude=["student", "school", "lead", "opened_by", "district"])
    case.save()
    _plan_written(case)
    _schedule(case)
    return case


def _goal_rate(value) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"goal_rate": _("Give the target attendance rate as a fraction, e.g. 0.90.")}) from None
    if not (Decimal("0") < rate <= Decimal("1")):
        raise ValidationError({"goal_rate": _("The target attendance rate is a fraction above 0, at most 1 (0.90).")})
    if rate.as_tuple().exponent < -4:
        raise ValidationError({"goal_rate": _("Give the target rate with at most four decimals.")})
    return rate


def _plan_written(case: Case) -> None:
    """A plan is written once it has a goal and one intervention: the second timer stops then.
    A plan recorded after the fact counts from the start date it gives, never from the future."""
    if case.is_written or not case.has_goal or not case.interventions.exists():
        return
    today = _today()
    case.plan_written_on = min(today, case.plan_started_on) if case.plan_started_on else today
    case.days_to_plan = _days_between(case.triggered_on, case.plan_written_on)
    case.save(update_fields=["plan_written_on", "days_to_plan", "updated_at"])


def _schedule(case: Case) -> None:
    """The next review: the review schedule counted from the last review, else the plan's start."""
    last = case.reviews.order_by("-review_date").values_list("review_date", flat=True).first()
    base = last or case.plan_started_on or case.opened_on
    next_review = base + datetime.timedelta(days=case.review_every_days) if case.is_open else None
    if next_review != case.next_review_on:
        case.next_review_on = next_review
        case.save(update_fields=["next_review_on", "updated_at"])


# ----------------------------------------------------------------------------- interventions


def _is_admin(membership: Membership) -> bool:
    return RoleGrant.objects.filter(membership=membership, role=Role.DISTRICT_ADMIN).exists()


@transaction.atomic
def intervention_create(
    *,
    case: Case,
    by: Membership,
    kind: str,
    description: str,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    owner: Membership | None = None,
    owner_name: str = "",
    frequency: str = "",
    override_reason: str = "",
    request=None,
) -> Intervention:
    """Add an intervention. A legal or court referral passes only the support-first guard, or a
    district admin's override with a reason (audit-logged, and shown on the case)."""
    _same_district(case.district_id, by=by, owner=owner)
    _require_open(case)
    override_reason = override_reason.strip()
    missing: list[str] = []
    if kind == InterventionKind.LEGAL_REFERRAL:
        if override_reason and not _is_admin(by):
            raise PermissionDenied(_("Only a district admin may override the support-first guard."))
        Case.objects.select_for_update().filter(pk=case.pk).first()
        missing = guard.missing_codes(case=case, on=start_date)
        if missing and not override_reason:
            raise GuardRefused(missing)
    intervention = Intervention(
        district_id=case.district_id, case=case, kind=kind, description=description.strip(), owner=owner,
        owner_name=owner_name.strip(), start_date=start_date, end_date=end_date, frequency=frequency.strip(),
        created_by=by,
    )  # fmt: skip
    if missing:
        intervention.override_reason, intervention.override_missing, intervention.override_by = (
            override_reason,
            missing,
            by,
        )
    if end_date and end_date < start_date:
        raise ValidationError({"end_date": _("The end cannot be before the start.")})
    intervention.full_clean(exclude=["district", "case", "created_by", "override_by", "owner"])
    intervention.save()
    if missing:
        _audit(
            by=by, student_id=case.student_id, action=AuditEvent.Action.CHANGE, object_type="guard_override",
            obj=intervention, label=f"Legal referral for {case.student.full_name} despite the support-first guard",
            request=request, case=case.pk, missing=missing, reason=override_reason,
        )  # fmt: skip
    _plan_written(case)
    return intervention


# ----------------------------------------------------------------------------- referrals


@transaction.atomic
def referral_create(
    *,
    case: Case,
    by: Membership,
    service: str,
    referred_on: datetime.date,
    partner: Partner | None = None,
    shares_records: bool = False,
    consent_given_by: str = "",
    consent_given_on: datetime.date | None = None,
    consent_scope: str = "",
    consent_expires_on: datetime.date | None = None,
    declined: bool = False,
    no_partner: bool = False,
    notes: str = "",
    request=None,
) -> Referral:
    """Record a referral. One that shares the student's records needs the guardian's consent
    first (who, when, what); without it the referral is refused. Each disclosure is audit-logged."""
    _same_district(case.district_id, by=by, partner=partner)
    _require_open(case)
    if service not in Barrier.values:
        raise ValidationError({"service": _("Choose the service by its barrier code.")})
    consent = {"by": consent_given_by.strip(), "on": consent_given_on, "scope": consent_scope.strip()}
    _check_referral_kind(partner=partner, service=service, declined=declined, no_partner=no_partner,
                         shares_records=shares_records)  # fmt: skip
    if shares_records:
        _check_consent(consent, referred_on=referred_on, expires_on=consent_expires_on)
    referral = Referral(
        district_id=case.district_id, case=case, partner=partner, service=service, referred_on=referred_on,
        shares_records=shares_records, consent_given_by=consent["by"], consent_given_on=consent["on"],
        consent_scope=consent["scope"], consent_expires_on=consent_expires_on, declined=declined,
        no_partner=no_partner, notes=notes.strip(), created_by=by,
    )  # fmt: skip
    referral.full_clean(exclude=["district", "case", "partner", "created_by"])
    referral.save()
    if shares_records:
        _audit(
            by=by, student_id=case.student_id, action=AuditEvent.Action.EXPORT, object_type="partner_disclosure",
            obj=referral, label=f"Records of {case.student.full_name} shared with {partner.name}", request=request,
            case=case.pk, student=case.student_id, partner=partner.pk, partner_name=partner.name,
            consent_given_by=consent["by"], consent_given_on=consent["on"].isoformat(), consent_scope=consent["scope"],
            consent_expires_on=consent_expires_on.isoformat() if consent_expires_on else None,
        )  # fmt: skip
    return referral


def _check_referral_kind(*, partner, service, declined, no_partner, shares_records) -> None:
    if no_partner:
        if partner is not None:
            raise ValidationError({"partner": _("A referral with no partner for the barrier names no partner.")})
        if shares_records:
            raise ValidationError({"shares_records": _("Nothing is shared when there is no partner.")})
        return
    if partner is None:
        raise ValidationError({"partner": _("Choose the partner (or record that none serves this barrier).")})
    if not partner.is_active:
        raise ValidationError({"partner": _("This partner is no longer in the directory.")})
    if partner.services and service not in partner.services:
        raise ValidationError({"service": _("%(partner)s does not list this service.") % {"partner": partner.name}})
    if declined and shares_records:
        raise ValidationError({"shares_records": _("Nothing is shared for a referral the family declined.")})


def _check_consent(consent: dict, *, referred_on: datetime.date, expires_on: datetime.date | None) -> None:
    """FERPA: written consent from the guardian — who gave it, when, for what — before sharing."""
    if not (consent["by"] and consent["on"] and consent["scope"]):
        raise ValidationError(
            {"consent": _("Sharing records needs the guardian's consent first: who gave it, when, and what it covers.")}
        )
    if consent["on"] > referred_on:
        raise ValidationError({"consent": _("Consent must be given on or before the day records are shared.")})
    if expires_on is not None and expires_on < referred_on:
        raise ValidationError({"consent": _("This consent had expired before the referral; records cannot be shared.")})


@transaction.atomic
def referral_update(
    *, referral: Referral, by: Membership, connected_on: datetime.date | None = None, outcome: str | None = None
) -> Referral:
    """Confirm the connection (the partner's service reached the family) and its outcome."""
    _same_district(referral.district_id, by=by)
    _require_open(referral.case)
    if connected_on is not None:
        if referral.declined or referral.no_partner:
            raise ValidationError({"connected_on": _("Only a referral made to a partner can connect.")})
        if connected_on < referral.referred_on:
            raise ValidationError({"connected_on": _("The connection cannot come before the referral.")})
        if connected_on > _today():
            raise ValidationError({"connected_on": _("A connection is confirmed once it has happened.")})
        referral.connected_on = connected_on
    if outcome is not None:
        referral.outcome = outcome.strip()
    referral.full_clean(exclude=["district", "case", "partner", "created_by"])
    referral.save(update_fields=["connected_on", "outcome"])
    return referral


# ----------------------------------------------------------------------------- meetings and reviews


@transaction.atomic
def meeting_create(
    *,
    case: Case,
    by: Membership,
    held_on: datetime.date,
    family_attended: bool = False,
    invitation: bool = False,
    attendees: str = "",
    notes: str = "",
    sensitive: bool = False,
) -> Meeting:
    """A meeting about the case (with the family or not), or an invitation the family did not
    take up: two documented invitations count for the guard like a family meeting."""
    _same_district(case.district_id, by=by)
    _require_open(case)
    if invitation and family_attended:
        raise ValidationError({"family_attended": _("An invitation is not a meeting the family attended.")})
    meeting = Meeting(
        district_id=case.district_id, case=case, kind=Meeting.Kind.INVITATION if invitation else Meeting.Kind.MEETING,
        held_on=held_on, family_attended=family_attended, attendees=attendees.strip(), notes=notes.strip(),
        sensitive=sensitive, created_by=by,
    )  # fmt: skip
    meeting.full_clean(exclude=["district", "case", "created_by"])
    meeting.save()
    return meeting


@transaction.atomic
def review_create(
    *, case: Case, by: Membership, review_date: datetime.date, notes: str = "", sensitive: bool = False
) -> Review:
    """A progress review with the app's figures: attendance since the plan started against the
    same number of membership days before it (cases.progress)."""
    _same_district(case.district_id, by=by)
    _require_open(case)
    plan_start = case.plan_started_on or case.opened_on
    if review_date < plan_start:
        raise ValidationError({"review_date": _("A review comes on or after the plan's start.")})
    if review_date > _today():
        raise ValidationError({"review_date": _("Record a review once it has taken place.")})
    figures = progress.review_progress(
        district=by.district, student_id=case.student_id, plan_started_on=plan_start, review_date=review_date
    )
    review = Review(
        district_id=case.district_id, case=case, review_date=review_date, notes=notes.strip(), sensitive=sensitive,
        plan_started_on=plan_start, through=figures.through, days_since=figures.since.days,
        absent_since=progress.days_decimal(figures.since.absent), rate_since=figures.rate_since,
        days_before=figures.before.days, absent_before=progress.days_decimal(figures.before.absent),
        rate_before=figures.rate_before, created_by=by,
    )  # fmt: skip
    review.full_clean(exclude=["district", "case", "created_by"])
    review.save()
    _schedule(case)
    return review


# ----------------------------------------------------------------------------- closing


@transaction.atomic
def case_close(
    *, case: Case, by: Membership, outcome: str, note: str = "", closed_on: datetime.date | None = None
) -> Case:
    """Close the case with its outcome; the student's Tier 3 flags are resolved with it."""
    _same_district(case.district_id, by=by)
    _require_open(case)
    if outcome not in CaseOutcome.values:
        raise ValidationError({"outcome": _("Choose the case's outcome.")})
    closed_on = closed_on or _today()
    if closed_on < case.opened_on or closed_on > _today():
        raise ValidationError({"closed_on": _("A case closes between its opening and today.")})
    case.status, case.closed_on, case.outcome, case.closure_note = Case.Status.CLOSED, closed_on, outcome, note.strip()
    case.next_review_on, case.closed_by = None, by
    case.save(
        update_fields=["status", "closed_on", "outcome", "closure_note", "next_review_on", "closed_by", "updated_at"]
    )
    text = str(CaseOutcome(outcome).label) + (f": {note.strip()}" if note.strip() else "")
    lifecycle.flags_case_closed(student=case.student, outcome=text, on=closed_on, by=by)
    return case


def case_settings_update(*, district: District, review_every_days: int, plan_deadline_days: int) -> None:
    """The district's Tier 3 defaults (cases.defaults); new cases take the review schedule."""
    if not REVIEW_EVERY_MIN_DAYS <= review_every_days <= REVIEW_EVERY_MAX_DAYS:
        raise ValidationError({"review_every_days": _("Review every 14 to 28 days (2 to 4 weeks).")})
    if plan_deadline_days < 1:
        raise ValidationError({"plan_deadline_days": _("Give the deadline in days.")})
    District.objects.filter(pk=district.pk).update(
        settings={
            **(district.settings or {}),
            "cases": {"review_every_days": review_every_days, "plan_deadline_days": plan_deadline_days},
        }
    )
    district.refresh_from_db(fields=["settings"])
