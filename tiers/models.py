"""Stored results of the nightly engine, the policy versions behind them, and the flags.

Results are written per run and swapped in: readers only ever see the run marked current, so a
run killed halfway leaves yesterday's numbers visible (write, then swap in one transaction).
"""

import datetime
import re
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School
from students.models import Student

from .policy import (
    BANDS,
    DEFAULT_RULES,
    FRACTIONAL_DAYS,
    INSUFFICIENT_DAYS,
    RULE_LABELS,
    WHOLE_DAYS,
    Policy,
    RuleSettings,
)
from .why import TEXT, WhyText, why_render

BAND_CHOICES = [(INSUFFICIENT_DAYS, _("Too few days"))] + [
    (band, label)
    for band, label in zip(BANDS, [_("Satisfactory"), _("At risk"), _("Moderate"), _("Severe"), _("Acute")])
]
RULE_CHOICES = [(rule_id, RULE_LABELS[rule_id]) for rule_id in DEFAULT_RULES]
# The note version 1 is saved with when the system records the defaults (stored as written, in
# English, and read in the reader's language: CalculationPolicy.note_text).
SPEC_DEFAULTS_NOTE = "SPEC defaults"


def _fraction(value) -> Fraction:
    return Fraction(Decimal(str(value))) / 100


class CalculationPolicy(models.Model):
    """One version of a district's calculation settings. Editing makes a new version."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    chronic_threshold_pct = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10.00"))
    min_membership_days = models.PositiveSmallIntegerField(default=10)
    partial_days = models.CharField(
        max_length=12,
        choices=[(WHOLE_DAYS, "Whole days (half-day rule)"), (FRACTIONAL_DAYS, "Fractional days")],
        default=WHOLE_DAYS,
    )
    exit_date_inclusive = models.BooleanField(default=False)
    recent_window = models.PositiveSmallIntegerField(default=20)
    # {rule_id: {"enabled": bool, "days": int, "window": int, "rate_low_pct": "5", ...}}; a missing
    # rule or number takes the SPEC default.
    rules = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["district", "version"], name="policy_unique_version")]

    def __str__(self) -> str:
        return f"policy v{self.version}"

    @property
    def note_text(self) -> str:
        """The note as its author wrote it; the system's own note in the reader's language."""
        if self.note == SPEC_DEFAULTS_NOTE and self.created_by_id is None:
            return gettext("SPEC defaults")
        return self.note

    def as_policy(self) -> Policy:
        return Policy(
            chronic_threshold=_fraction(self.chronic_threshold_pct),
            min_membership_days=self.min_membership_days,
            partial_days=self.partial_days,
            exit_date_inclusive=self.exit_date_inclusive,
            recent_window=self.recent_window,
            rules={rule_id: self.rule_settings(rule_id) for rule_id in DEFAULT_RULES},
        )

    def rule_settings(self, rule_id: str) -> RuleSettings:
        default = DEFAULT_RULES[rule_id]
        stored = self.rules.get(rule_id, {})
        pct = {
            name: _fraction(stored[f"{name}_pct"])
            for name in ("rate_low", "rate_high", "share")
            if f"{name}_pct" in stored
        }
        whole = {
            name: int(stored[name])
            for name in ("days", "window", "min_membership", "weeks", "supports")
            if name in stored
        }
        return RuleSettings(
            **{**default.__dict__, "enabled": bool(stored.get("enabled", default.enabled)), **whole, **pct}
        )


RUN_STEPS = {
    "loading": pgettext_lazy("metrics run step", "Loading attendance"),
    "computing": pgettext_lazy("metrics run step", "Computing metrics"),
    "flags": pgettext_lazy("metrics run step", "Updating flags and snapshots"),
    "done": pgettext_lazy("metrics run step", "Done"),
    "failed": pgettext_lazy("metrics run step", "Failed"),
    "not_queued": pgettext_lazy("metrics run step", "Not queued"),
    "interrupted": pgettext_lazy("metrics run step", "Interrupted"),
    "retrying": pgettext_lazy("metrics run step", "Waiting to retry after a database error"),
}


# Why a run failed (MetricsRun.error), as the worker and the sweep store it: a code, read in the
# viewer's language (MetricsRun.error_text). `not_queued:<detail>` quotes the broker's error.
RUN_ERRORS = {
    "interrupted": pgettext_lazy(
        "metrics run error", "The run stopped without finishing (its worker stopped, or none took it in time)."
    ),
    "stopped": pgettext_lazy("metrics run error", "The run stopped without finishing."),
}
# Stored as English sentences before the codes.
_LEGACY_RUN_ERRORS = {
    "The run stopped without finishing (its worker stopped, or none took it in time).": "interrupted",
    "The run stopped without finishing.": "stopped",
}
_LEGACY_NOT_QUEUED = re.compile(
    r"The run could not be queued \((?P<detail>.*)\)\. Retry it once the broker is back\.", re.DOTALL
)


class MetricsRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("Started by an admin")
        COMMAND = "command", _("Command line")
        POLICY = "policy", _("Policy change")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(CalculationPolicy, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.COMMAND)
    is_current = models.BooleanField(default=False)
    # What the run is doing, as a code (`loading`, `replaying:2025-09-08`) read in the viewer's language.
    step = models.CharField(max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    students = models.PositiveIntegerField(default=0)
    flags_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["district"], condition=Q(is_current=True), name="metricsrun_one_current")
        ]

    def __str__(self) -> str:
        return f"run {self.pk} as of {self.as_of} ({self.status})"

    @property
    def step_text(self) -> str:
        """The step in the active language: the worker writes it, an admin in either language
        reads it. A step stored as English before codes existed is shown as written."""
        code, _sep, rest = self.step.partition(":")
        if code == "replaying" and rest:
            week = formats.date_format(datetime.date.fromisoformat(rest), "MONTH_DAY_FORMAT")
            return gettext("Replaying the week of %(date)s") % {"date": week}
        if code == "done_superseded" and rest:
            newer, _sep, as_of = rest.partition(":")
            as_of = formats.date_format(datetime.date.fromisoformat(as_of), "DATE_FORMAT")
            return gettext("Done; run %(run)s as of %(date)s stays current") % {"run": newer, "date": as_of}
        return str(RUN_STEPS.get(self.step, self.step))

    @property
    def error_text(self) -> str:
        """Why the run failed, in the active language: the worker or the sweep stores a code
        (`interrupted`, `not_queued:<the broker's words>`), an exception its own text, which is
        shown inside a sentence of the reader's language. Errors stored as English sentences
        before codes existed are read back the same way."""
        if not self.error:
            return ""
        code = _LEGACY_RUN_ERRORS.get(self.error, self.error)
        if code in RUN_ERRORS:
            return str(RUN_ERRORS[code])
        queued = _LEGACY_NOT_QUEUED.fullmatch(self.error)
        if self.error.startswith("not_queued:") or queued:
            detail = queued.group("detail") if queued else self.error.removeprefix("not_queued:")
            return gettext("The run could not be queued (%(detail)s). Retry it once the broker is back.") % {
                "detail": detail
            }
        return gettext("The run stopped on an unexpected error: %(detail)s") % {"detail": self.error}

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class StudentMetrics(models.Model):
    """A student's district-level figures in one run (SPEC §4).

    Written 200,000 rows at a time each night, so it carries no index a scoped query does not
    need: every read filters on district and run, which the unique index already leads with.
    """

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(MetricsRun, on_delete=models.CASCADE, related_name="student_metrics", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="metrics")
    current_school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    membership_days = models.PositiveSmallIntegerField()
    absent_days = models.DecimalField(max_digits=7, decimal_places=3)
    absent_excused = models.DecimalField(max_digits=7, decimal_places=3)
    absent_unexcused = models.DecimalField(max_digits=7, decimal_places=3)
    absent_suspension = models.DecimalField(max_digits=7, decimal_places=3)
    absent_partial = models.DecimalField(max_digits=7, decimal_places=3)
    tardy_days = models.PositiveSmallIntegerField()
    absence_rate = models.DecimalField(max_digits=5, decimal_places=4)
    chronic = models.BooleanField()
    band = models.CharField(max_length=20, choices=BAND_CHOICES)
    remaining_days = models.PositiveSmallIntegerField()
    absences_left = models.PositiveSmallIntegerField()
    recent_rate = models.DecimalField(max_digits=5, decimal_places=4)
    projected_rate = models.DecimalField(max_digits=5, decimal_places=4)
    tier = models.PositiveSmallIntegerField()
    rules = models.JSONField(default=list)
    signals = models.JSONField(default=dict)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "run", "student"], name="studentmetrics_unique")]
        indexes = [
            models.Index(fields=["district", "run", "current_school", "tier"], name="metrics_school_tier_idx"),
        ]


class StudentSchoolMetrics(models.Model):
    """School-level figures: only the membership and absences at that school."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(MetricsRun, on_delete=models.CASCADE, related_name="school_metrics", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    membership_days = models.PositiveSmallIntegerField()
    absent_days = models.DecimalField(max_digits=7, decimal_places=3)
    absence_rate = models.DecimalField(max_digits=5, decimal_places=4)
    chronic = models.BooleanField()
    band = models.CharField(max_length=20, choices=BAND_CHOICES)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "run", "student", "school"], name="studentschoolmetrics_unique")
        ]
        indexes = [models.Index(fields=["district", "run", "school"], name="schoolmetrics_school_idx")]


class WeeklySnapshot(models.Model):
    """A student's figures at the end of a school week, kept for trends and "new this week"."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()  # the Monday
    as_of = models.DateField()
    membership_days = models.PositiveSmallIntegerField()
    absent_days = models.DecimalField(max_digits=7, decimal_places=3)
    absence_rate = models.DecimalField(max_digits=5, decimal_places=4)
    band = models.CharField(max_length=20, choices=BAND_CHOICES)
    tier = models.PositiveSmallIntegerField()
    rules = models.JSONField(default=list)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["week_start"]
        constraints = [
            models.UniqueConstraint(fields=["district", "student", "week_start"], name="weeklysnapshot_unique")
        ]
        indexes = [models.Index(fields=["district", "week_start"], name="snapshot_week_idx")]


class Flag(models.Model):
    """A rule that fired for a student: one open flag per student and rule, never duplicated."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        ESCALATED = "escalated", _("Escalated")

    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS)

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="flags")
    rule = models.CharField(max_length=32, choices=RULE_CHOICES)
    tier = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    first_met = models.DateField()
    last_met = models.DateField()
    currently_met = models.BooleanField(default=True)
    # Why it was raised, as a code and the figures of that day (tiers.why renders it in the
    # reader's language): the rule's id, or "escalated"/"text" for one a person raised.
    why_code = models.CharField(max_length=32)
    why_params = models.JSONField(default=dict, blank=True)
    policy_version = models.PositiveIntegerField()
    resolved_on = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)
    # A flag that opened again after the team resolved the student: the resolved flag it follows.
    follows = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # "Keep open" on the ready-to-close list: not ready again until its rule has lapsed that long anew.
    kept_open_on = models.DateField(null=True, blank=True)
    kept_open_reason = models.CharField(max_length=300, blank=True)
    # "Keep in Tier 2 for now" on a Tier 3 trigger: off the escalation agenda and the counselors'
    # queue until this review date; back on the agenda then if its rule still holds.
    kept_in_tier2_until = models.DateField(null=True, blank=True)
    kept_in_tier2_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-tier", "first_met", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "student", "rule"],
                condition=Q(status__in=["new", "in_progress"]),
                name="flag_one_open_per_rule",
            )
        ]
        indexes = [models.Index(fields=["district", "status", "first_met"], name="flag_status_idx")]

    def __str__(self) -> str:
        return f"{self.rule} for {self.student_id} ({self.status})"

    @property
    def label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def raised_by_its_rule(self) -> bool:
        """Raised by the nightly run because its rule held, not by a person (a team's referral,
        a case opened without a flag): only then does "the rule no longer holds" mean anything."""
        return self.why_code == self.rule

    @property
    def why(self) -> str:
        """The why in the active language."""
        return why_render(self.why_code, self.why_params)

    @why.setter
    def why(self, text: str) -> None:
        """A coded why (tiers.why.why_of) keeps its code; a person's text is kept as written."""
        if isinstance(text, WhyText):
            self.why_code, self.why_params = text.code, text.params
        else:
            self.why_code, self.why_params = TEXT, {"text": text}


class FlagEvent(models.Model):
    """One step of a flag's lifecycle taken by people (tiers.lifecycle writes every one): who
    moved it, when, from which status to which, and why. The nightly run's own bookkeeping
    (opening flags, "still holds") is not an event: it lives on the flag."""

    class Kind(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Work started")
        RESOLVED = "resolved", _("Resolved")
        ESCALATED = "escalated", _("Escalated to Tier 3")
        REFERRED = "referred", _("Referred to Tier 3")
        CASE_OPENED = "case_opened", _("Case opened")
        CASE_CLOSED = "case_closed", _("Case closed")
        KEPT_OPEN = "kept_open", _("Kept open")
        KEPT_IN_TIER2 = "kept_in_tier2", _("Kept in Tier 2 for now")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=12, choices=Flag.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Flag.Status.choices)
    on = models.DateField()
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    # e.g. {"reason": "improved", "contradictions": [...], "confirmed": true}
    detail = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["district", "flag"], name="flagevent_flag_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of flag {self.flag_id} on {self.on}"
