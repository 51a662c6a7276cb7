"""The support-first guard (SPEC §1: punitive steps last; issue 11).

A legal or court referral is refused until the record shows the supports that must come
first. Each requirement has a code — the API's contract — and plain words for the refusal.
Only what is dated on or before the referral's start counts: supports have to come first.
"""

import dataclasses
import datetime

from django.utils.translation import gettext_lazy as _

from outreach.models import Method, OutreachAction
from tiers.selectors import school_calendar_rows
from tiers.student_calendar import TeachingDays

from .models import Case, Meeting, Referral

PLAN_AGE_SCHOOL_DAYS = 20
FAMILY_CONTACT_ATTEMPTS, FAMILY_CONTACT_METHODS = 3, 2
FAMILY_INVITATIONS = 2

# In the order the refusal lists them.
GUARD_CODES = [
    "tier2_family_contact",
    "tier2_support",
    "plan_age",
    "partner_referral",
    "family_meeting",
    "progress_review",
]
GUARD_LABELS = {
    "tier2_family_contact": _(
        "Reach the family: a logged contact that reached them, or 3 attempts by at least 2 different methods."
    ),
    "tier2_support": _("Offer a support: a logged contact naming the barrier and the support offered."),
    "plan_age": _("Give the written plan time: it must have started at least 20 school days before this referral."),
    "partner_referral": _(
        "Refer to a partner: a referral made, or one documented as declined by the family or with no partner "
        "for the barrier."
    ),
    "family_meeting": _("Meet with the family: a meeting they took part in, or two documented invitations."),
    "progress_review": _("Review progress: at least one progress review of the plan."),
}


@dataclasses.dataclass(frozen=True)
class GuardCheck:
    code: str
    met: bool

    @property
    def label(self) -> str:
        return str(GUARD_LABELS[self.code])


def support_first_checks(*, case: Case, on: datetime.date) -> list[GuardCheck]:
    """Each requirement, met or not, for a legal referral starting on `on`."""
    actions = list(
        OutreachAction.objects.filter(student_id=case.student_id, attempt_date__lte=on).values_list(
            "method", "reached", "barrier", "support_offered"
        )
    )
    family = [(method, reached) for method, reached, *rest in actions if method != Method.STUDENT_CHECK_IN]
    methods = {method for method, reached in family}
    met = {
        "tier2_family_contact": any(reached for method, reached in family)
        or (len(family) >= FAMILY_CONTACT_ATTEMPTS and len(methods) >= FAMILY_CONTACT_METHODS),
        "tier2_support": any(barrier and support.strip() for *contact, barrier, support in actions),
        "plan_age": _plan_age_met(case, on),
        "partner_referral": Referral.objects.filter(case=case, referred_on__lte=on).exists(),
        "family_meeting": _family_meeting_met(case, on),
        "progress_review": case.reviews.filter(review_date__lte=on).exists(),
    }
    return [GuardCheck(code, bool(met[code])) for code in GUARD_CODES]


def missing_codes(*, case: Case, on: datetime.date) -> list[str]:
    return [check.code for check in support_first_checks(case=case, on=on) if not check.met]


def _plan_age_met(case: Case, on: datetime.date) -> bool:
    if not (case.is_written and case.plan_started_on and case.plan_written_on <= on):
        return False
    return school_days_between(case.school_id, case.plan_started_on, on) >= PLAN_AGE_SCHOOL_DAYS


def school_days_between(school_id: int | None, start: datetime.date, end: datetime.date) -> int:
    """School days on or after `start` and before `end`, by the school's calendar (its own
    rows over the district default)."""
    if end <= start:
        return 0
    rows = school_calendar_rows(school_ids=[school_id] if school_id else [], start=start, end=end)
    return sum(1 for day in TeachingDays(rows).dates(school_id) if start <= day < end)


def _family_meeting_met(case: Case, on: datetime.date) -> bool:
    meetings = Meeting.objects.filter(case=case, held_on__lte=on)
    held = meetings.filter(kind=Meeting.Kind.MEETING, family_attended=True).exists()
    return held or meetings.filter(kind=Meeting.Kind.INVITATION).count() >= FAMILY_INVITATIONS
