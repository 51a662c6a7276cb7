"""The Tier 2 workspace: weekly huddles per school, their rows, who attended, the outreach log,
and escalations to Tier 3.

A huddle is a record of a meeting, not a live view: each row keeps the figures the team saw
that Monday (days missed, rate, band, the rules and their "why"), so a huddle from October
reads the same in March. What changes afterwards — the owner, the next step, discussed, the
outcome — is the team's own work on the row.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School
from students.models import Student
from tiers.models import BAND_CHOICES, Flag
from tiers.why import tier2_history_render


class Barrier(models.TextChoices):
    """SPEC §5's barrier taxonomy, in its order."""

    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    MENTAL_HEALTH = "mental_health", _("Mental health, anxiety or school refusal")
    TRANSPORTATION = "transportation", _("Transportation")
    HOUSING = "housing", _("Housing instability")
    FAMILY_RESPONSIBILITIES = "family_responsibilities", _("Family responsibilities or work")
    SAFETY_BELONGING = "safety_belonging", _("Safety, bullying or belonging")
    ACADEMIC = "academic", _("Academic struggle or disengagement")
    MISCONCEPTION = "misconception", _("Misconception (didn't realize)")
    CLIMATE_DISCIPLINE = "climate_discipline", _("School climate or discipline")
    OTHER = "other", _("Other")


class Method(models.TextChoices):
    CALL = "call", _("Phone call")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    HOME_VISIT = "home_visit", _("Home visit")
    CONFERENCE = "conference", _("Conference")
    STUDENT_CHECK_IN = "student_check_in", _("Student check-in")


class Section(models.TextChoices):
    """Where a student sits on the huddle, in the order the team talks them through. The first
    five are this week's agenda; ready to close and on track follow it (issue 10)."""

    TIER3 = "tier3", _("Tier 3 escalation candidates")
    PRIOR_CHRONIC = "prior_chronic", _("Chronic last year, missing again")
    NEW = "new", _("Newly flagged since the last huddle")
    FOLLOW_UP = "follow_up", _("Follow-ups and next steps due this week or overdue")
    NO_OWNER = "no_owner", _("No owner yet")
    READY_TO_CLOSE = "ready_to_close", _("Ready to close")
    ON_TRACK = "on_track", _("On track")
    # Sections of huddles generated before the agenda: kept so those weeks' records still read.
    RISING = "rising", _("Rising fastest")
    APPROACHING = "approaching", _("Approaching chronic (5–9%)")
    CARRIED = "carried", _("Carried over, next step not yet due")


# This week's agenda: what the meeting talks through. Everyone else with an open flag is on track
# (collapsed) or ready to close.
AGENDA_SECTIONS = frozenset({Section.TIER3, Section.PRIOR_CHRONIC, Section.NEW, Section.FOLLOW_UP, Section.NO_OWNER})


SECTION_ORDER = {value: index for index, value in enumerate(Section.values)}


class Huddle(models.Model):
    """One school's huddle for one week (week_start is the Monday)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="huddles")
    week_start = models.DateField()
    generated_at = models.DateTimeField()
    as_of = models.DateField(null=True, blank=True, help_text="The metrics run its figures come from.")

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-week_start", "school__name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "school", "week_start"], name="huddle_unique_school_week"),
        ]

    def __str__(self) -> str:
        # The day without a leading zero by hand: strftime's dash flag is glibc's alone (issue 13).
        return f"{self.school} huddle, week of {self.week_start:%b} {self.week_start.day}, {self.week_start.year}"

    def clean(self):
        if self.week_start and self.week_start.weekday() != 0:
            raise ValidationError({"week_start": "A huddle week starts on a Monday."})


class HuddleRow(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "", _("Open")
        RESOLVED = "resolved", _("Resolved")
        ESCALATED = "escalated", _("Escalated to Tier 3")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    huddle = models.ForeignKey(Huddle, on_delete=models.CASCADE, related_name="rows")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="huddle_rows")
    section = models.CharField(max_length=16, choices=Section.choices)
    position = models.PositiveIntegerField(default=0)  # order inside the section
    flags = models.ManyToManyField(Flag, through="HuddleRowFlag", related_name="huddle_rows", blank=True)

    # The figures the team saw, kept with the record.
    grade = models.CharField(max_length=4, blank=True)
    membership_days = models.PositiveSmallIntegerField(default=0)
    absent_days = models.DecimalField(max_digits=7, decimal_places=3, default=0)
    absence_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    band = models.CharField(max_length=20, choices=BAND_CHOICES, blank=True)
    absences_left = models.PositiveSmallIntegerField(null=True, blank=True)
    trend = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    trend_points = models.JSONField(default=list, blank=True)  # [[week_start, rate], …] from the weekly snapshots
    reasons = models.JSONField(default=list, blank=True)  # [{rule, tier, why_code, why_params, first_met}]
    tier2_since = models.DateField(null=True, blank=True)  # earliest open Tier 2 flag: contacts count from here
    # The Tier 2 checklist's clock: the day that flag was first on a huddle (never before it was
    # met), so deadlines do not run from before the team existed or before its first huddle.
    tier2_clock = models.DateField(null=True, blank=True)

    owner = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    next_step = models.CharField(max_length=300, blank=True)
    next_step_due = models.DateField(null=True, blank=True)
    discussed = models.BooleanField(default=False)
    discussed_at = models.DateTimeField(null=True, blank=True)
    carried_over_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="carried_into"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True, default=Outcome.OPEN)
    outcome_reason = models.CharField(max_length=300, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["huddle", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "huddle", "student"], name="huddlerow_unique_student"),
        ]
        indexes = [models.Index(fields=["district", "student"], name="huddlerow_student_idx")]

    def __str__(self) -> str:
        return f"{self.student_id} on huddle {self.huddle_id}"

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN

    @property
    def on_agenda(self) -> bool:
        return self.section in AGENDA_SECTIONS


class HuddleRowFlag(models.Model):
    """Which flags a row covers: resolving or escalating the row closes exactly these."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    row = models.ForeignKey(HuddleRow, on_delete=models.CASCADE, related_name="flag_links")
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "row", "flag"], name="huddlerowflag_unique")]


class HuddleAttendance(models.Model):
    """Who was at the huddle. The share of rows discussed is computed from the rows."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    huddle = models.ForeignKey(Huddle, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "huddle", "member"], name="huddleattendance_unique"),
        ]


class OutreachAction(models.Model):
    """One contact attempt or check-in: the minimum SPEC §5 asks every contact to carry."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="outreach_actions")
    flag = models.ForeignKey(Flag, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    huddle_row = models.ForeignKey(HuddleRow, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    attempt_date = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices)
    reached = models.BooleanField()
    barrier = models.CharField(max_length=32, choices=Barrier.choices, blank=True)
    support_offered = models.CharField(max_length=300, blank=True)
    follow_up_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Health or family matters: the notes, barrier and support show only to counselors and the author.
    sensitive = models.BooleanField(default=False)
    author = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-attempt_date", "-id"]
        indexes = [models.Index(fields=["district", "student", "attempt_date"], name="action_student_date_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.student_id} on {self.attempt_date}"

    @property
    def is_family_contact(self) -> bool:
        return self.method != Method.STUDENT_CHECK_IN


class Escalation(models.Model):
    """A huddle's referral of a student to Tier 3: the Tier 3 flag it put in the counselors'
    queue, the Tier 2 flags it closed, and the Tier 2 history as the team summarised it."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="escalations")
    row = models.ForeignKey(HuddleRow, on_delete=models.CASCADE, related_name="escalations")
    # RESTRICT, not PROTECT: the referral keeps its flag, yet removing the student (or the
    # district) removes both together, as a reseeded demo or a district's offboarding needs.
    tier3_flag = models.ForeignKey(Flag, on_delete=models.RESTRICT, related_name="escalations")
    tier2_flags = models.ManyToManyField(Flag, through="EscalationFlag", related_name="+", blank=True)
    reason = models.TextField()
    history = models.TextField(blank=True)  # in English, as written; pages read history_text
    # The Tier 2 account as figures (outreach.services.tier2_history_params): worded in the reader's language.
    history_params = models.JSONField(default=dict, blank=True)
    escalated_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    escalated_at = models.DateTimeField()

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-escalated_at"]
        constraints = [models.UniqueConstraint(fields=["district", "row"], name="escalation_one_per_row")]

    @property
    def history_text(self) -> str:
        """The Tier 2 account in the active language (a referral from before the figures were
        kept reads as it was written)."""
        return tier2_history_render(self.history_params or self.history)


class EscalationFlag(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="flag_links")
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "escalation", "flag"], name="escalationflag_unique")]


from .families.models import *  # noqa: E402, F403  (family messaging: templates, letters, notices)
