"""Tier 3: case-managed support for the students who need the most (SPEC §6, issue 11).

A case belongs to one student and has a named lead. Its plan is the case's own fields (the
barriers, a measurable attendance goal, the review schedule) and the rows around it:
interventions, partner referrals tracked until the family connects, meetings with the family,
and reviews whose figures the app computes from the attendance data. The measured timers
(trigger → lead assigned, trigger → written plan) are stored on the case when they happen, so
the district's follow-through figures read them instead of reconstructing history.
"""

import datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School
from outreach.models import Barrier
from students.models import Student
from tiers.models import Flag

# Review schedule (SPEC §6: every 2–4 weeks); the district sets its default within these bounds.
REVIEW_EVERY_MIN_DAYS, REVIEW_EVERY_MAX_DAYS = 14, 28


class InterventionKind(models.TextChoices):
    MENTORING = "mentoring", _("Mentoring")
    CHECK_IN_CHECK_OUT = "check_in_check_out", _("Check-in/check-out")
    HOME_VISIT = "home_visit", _("Home visit")
    HEALTH_REFERRAL = "health_referral", _("Health referral")
    TRANSPORTATION = "transportation", _("Transportation")
    SCHEDULE_CHANGE = "schedule_change", _("Schedule change")
    FAMILY_MEETING = "family_meeting", _("Family meeting")
    LEGAL_REFERRAL = "legal_referral", _("Legal or court referral")
    OTHER = "other", _("Other")


class CaseOutcome(models.TextChoices):
    GOAL_MET = "goal_met", _("Attendance goal met")
    IMPROVED = "improved", _("Attendance improved; back to Tier 2 support")
    MOVED = "moved", _("Moved or withdrew")
    SERVED_ELSEWHERE = "served_elsewhere", _("Served by another program or agency")
    NOT_IMPROVED = "not_improved", _("Closed without improvement")
    OTHER = "other", _("Other")


class Partner(models.Model):
    """A community organisation in the district's directory: what it helps with, who it
    serves, how to reach it and how fast it answers a referral."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("organisation"), max_length=200)
    services = models.JSONField(_("services by barrier"), default=list, blank=True)  # Barrier codes
    eligibility = models.TextField(_("eligibility"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    intake_process = models.TextField(_("intake process"), blank=True)
    expected_response_days = models.PositiveSmallIntegerField(
        _("expected response (days)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    connection_definition = models.TextField(_("what counts as a connection"), blank=True)
    is_active = models.BooleanField(_("in the directory"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="partner_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def service_labels(self) -> list[str]:
        labels = dict(Barrier.choices)
        return [str(labels.get(code, code)) for code in self.services]


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="cases")
    # The student's school when the case opened: its counselors' caseload and queue.
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    lead = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    flags = models.ManyToManyField(Flag, through="CaseFlag", related_name="cases", blank=True)
    opened_on = models.DateField()
    opened_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")

    # The measured timers (SPEC §6), in calendar days from the trigger: the first Tier 3 flag.
    triggered_on = models.DateField(null=True, blank=True)
    lead_assigned_on = models.DateField()
    plan_written_on = models.DateField(null=True, blank=True)
    days_to_lead = models.PositiveSmallIntegerField(null=True, blank=True)
    days_to_plan = models.PositiveSmallIntegerField(null=True, blank=True)

    # The plan.
    barriers = models.JSONField(default=list, blank=True)  # Barrier codes, as outreach codes them
    goal_rate = models.DecimalField(
        _("target attendance rate"), max_digits=5, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )  # fmt: skip
    goal_by = models.DateField(_("goal date"), null=True, blank=True)
    plan_started_on = models.DateField(_("plan start"), null=True, blank=True)
    review_every_days = models.PositiveSmallIntegerField(
        _("review every (days)"), default=REVIEW_EVERY_MIN_DAYS,
        validators=[MinValueValidator(REVIEW_EVERY_MIN_DAYS), MaxValueValidator(REVIEW_EVERY_MAX_DAYS)],
    )  # fmt: skip
    next_review_on = models.DateField(null=True, blank=True)

    closed_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=CaseOutcome.choices, blank=True)
    closure_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "student"], condition=Q(status="open"), name="case_one_open_per_student"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True) | Q(status="closed", closed_on__isnull=False),
                name="case_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "lead", "status"], name="case_lead_idx"),
            models.Index(fields=["district", "school", "status"], name="case_school_idx"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} for {self.student_id}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def has_goal(self) -> bool:
        return self.goal_rate is not None and self.goal_by is not None

    @property
    def is_written(self) -> bool:
        return self.plan_written_on is not None

    @property
    def barrier_labels(self) -> list[str]:
        labels = dict(Barrier.choices)
        return [str(labels.get(code, code)) for code in self.barriers]


class CaseFlag(models.Model):
    """The Tier 3 flags a case answers: opening takes them out of the queue, closing resolves them."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flag_links")
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "case", "flag"], name="caseflag_unique")]


class Intervention(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=24, choices=InterventionKind.choices)
    description = models.TextField(_("what"))
    owner = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    owner_name = models.CharField(_("who"), max_length=200, blank=True)  # someone without an account
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    frequency = models.CharField(_("how often"), max_length=100, blank=True)
    # A legal referral the support-first guard refused, passed by a district admin: the codes
    # that were missing, and why the admin went ahead anyway.
    override_reason = models.TextField(blank=True)
    override_missing = models.JSONField(default=list, blank=True)
    override_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="intervention_end_not_before_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date}"

    @property
    def who(self) -> str:
        if self.owner_id:
            user = self.owner.user
            return user.get_full_name() or user.email
        return self.owner_name


class Referral(models.Model):
    """A referral to a partner, tracked until the family actually connects to the service.

    Three documented alternatives count as "a referral made" for the guard: a real referral,
    one the family declined, and a barrier for which the directory has no partner."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    partner = models.ForeignKey(Partner, on_delete=models.RESTRICT, null=True, blank=True, related_name="referrals")
    service = models.CharField(_("service"), max_length=32, choices=Barrier.choices)
    referred_on = models.DateField(_("date referred"))
    declined = models.BooleanField(_("the family declined"), default=False)
    no_partner = models.BooleanField(_("no partner for this barrier"), default=False)
    shares_records = models.BooleanField(_("shares student records"), default=False)
    # FERPA: the guardian's written consent, recorded before any record leaves the school.
    consent_given_by = models.CharField(_("consent given by"), max_length=200, blank=True)
    consent_given_on = models.DateField(_("consent date"), null=True, blank=True)
    consent_scope = models.CharField(_("what may be shared"), max_length=300, blank=True)
    consent_expires_on = models.DateField(_("consent expires"), null=True, blank=True)
    connected_on = models.DateField(_("connection confirmed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["referred_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shares_records=False)
                | (Q(consent_given_on__isnull=False) & ~Q(consent_given_by="") & ~Q(consent_scope="")),
                name="referral_shares_only_with_consent",
            ),
            models.CheckConstraint(
                condition=Q(no_partner=True) | Q(partner__isnull=False), name="referral_partner_or_none_available"
            ),
        ]
        indexes = [models.Index(fields=["district", "connected_on"], name="referral_connected_idx")]

    def __str__(self) -> str:
        return f"referral {self.pk} on case {self.case_id}"

    @property
    def is_pending(self) -> bool:
        """Referred and waiting for the family to connect."""
        return not (self.declined or self.no_partner or self.connected_on)

    def due_on(self) -> datetime.date | None:
        if not self.is_pending or self.partner_id is None:
            return None
        return self.referred_on + datetime.timedelta(days=self.partner.expected_response_days)

    def is_overdue(self, today: datetime.date) -> bool:
        due = self.due_on()
        return due is not None and today > due


class Meeting(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting held")
        INVITATION = "invitation", _("Invitation to the family")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MEETING)
    held_on = models.DateField(_("date"))
    family_attended = models.BooleanField(_("the family took part"), default=False)
    attendees = models.CharField(_("who took part"), max_length=500, blank=True)
    notes = models.TextField(blank=True)
    sensitive = models.BooleanField(default=False)
    created_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["held_on", "id"]

    @property
    def is_family_meeting(self) -> bool:
        return self.kind == self.Kind.MEETING and self.family_attended


class Review(models.Model):
    """A progress review. Its figures are the app's, from the attendance data (cases.progress):
    the attendance rate over the membership days since the plan started against the same number
    of membership days just before it."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    review_date = models.DateField(_("review date"))
    notes = models.TextField(blank=True)
    sensitive = models.BooleanField(default=False)
    plan_started_on = models.DateField()  # P, as it was when the review was recorded
    through = models.DateField(null=True, blank=True)  # min(R, the latest computed as-of date)
    days_since = models.PositiveSmallIntegerField()
    absent_since = models.DecimalField(max_digits=7, decimal_places=3)
    rate_since = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    days_before = models.PositiveSmallIntegerField()
    absent_before = models.DecimalField(max_digits=7, decimal_places=3)
    rate_before = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["review_date", "id"]

    @property
    def change(self) -> Decimal | None:
        if self.rate_since is None or self.rate_before is None:
            return None
        return self.rate_since - self.rate_before
