"""What the pulse app keeps: the week-2 and week-4 pulse checks as dated snapshots, so a district
compares this September with the last ones after the attendance records behind them are gone;
and support requests, a school asking the district for help, answered in the open (an owner at
the district, a due date, a thread, a resolution note)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School
from students.models import Student


class PulseCheck(models.Model):
    """Students with 2+ absences in a school's first 10 (week 2) or 20 (week 4) school days, for
    one school and grade (grade blank: the whole school; school empty: the whole district),
    written once by the nightly run when the window has passed (or by `manage.py pulse_checks`)."""

    class Checkpoint(models.IntegerChoices):
        WEEK_2 = 10, _("Week 2 (first 10 school days)")
        WEEK_4 = 20, _("Week 4 (first 20 school days)")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school_year = models.CharField(max_length=9)  # "2025-26"
    checkpoint = models.PositiveSmallIntegerField(choices=Checkpoint.choices)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    grade = models.CharField(max_length=4, blank=True)
    window_start = models.DateField()
    window_end = models.DateField()
    students = models.PositiveIntegerField()  # enrolled during the window
    two_or_more = models.PositiveIntegerField()  # of them, absent 2+ whole days in it
    taken_on = models.DateField()  # the as-of date of the run (or backfill) that wrote it

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-school_year", "checkpoint", "school_id", "grade"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "school_year", "checkpoint", "school", "grade"],
                condition=Q(school__isnull=False),
                name="pulsecheck_unique_school",
            ),
            models.UniqueConstraint(
                fields=["district", "school_year", "checkpoint", "grade"],
                condition=Q(school__isnull=True),
                name="pulsecheck_unique_district",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} day {self.checkpoint}: {self.two_or_more}/{self.students}"

    @property
    def share(self):
        from fractions import Fraction

        return Fraction(self.two_or_more, self.students) if self.students else None


class SupportCategory(models.TextChoices):
    STUDENT_SUPPORT = "student_support", _("A student or family needs district help")
    TRANSPORTATION = "transportation", _("Transportation")
    PARTNER_SERVICES = "partner_services", _("Partner services or referrals")
    STAFFING = "staffing", _("Staffing or capacity")
    DATA = "data", _("Attendance data or imports")
    TRAINING = "training", _("Training or coaching")
    FAMILY_MESSAGING = "family_messaging", _("Family messages or letters")
    OTHER = "other", _("Other")


class SupportRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="support_requests")
    category = models.CharField(_("category"), max_length=24, choices=SupportCategory.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("what is needed"))
    students = models.ManyToManyField(Student, through="SupportRequestStudent", related_name="+", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    requested_at = models.DateTimeField()
    owner = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    due_on = models.DateField(_("due date"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolution = models.TextField(_("resolution note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["district", "status", "due_on"], name="support_open_due_idx")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_overdue(self, today) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


# The API schema names this choice set once (settings SPECTACULAR ENUM_NAME_OVERRIDES).
SUPPORT_REQUEST_STATUSES = SupportRequest.Status.choices


class SupportRequestStudent(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="student_links")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "request", "student"], name="support_student_unique")
        ]


class SupportComment(models.Model):
    """One message on a request's thread; status changes write one too, so the thread is the
    request's whole history."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        ASSIGNED = "assigned", _("Assigned")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="comments")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COMMENT)
    author = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField()

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.request_id}"


class EffectivenessFigures(models.Model):
    """Intervention effectiveness (pulse.effectiveness) for the district as of a nightly run's
    date, written by the nightly run: the before/after windows read every supported student's
    attendance, seconds at 200,000 students, so the page only reads this row. `rows` holds codes
    and figures ({"dimension", "code", "students", "rate_before", "rate_after"}); the words are
    put on them when shown, in the reader's language."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    computed_at = models.DateTimeField(auto_now=True)
    rows = models.JSONField(default=list)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "as_of"], name="effectiveness_unique_as_of")]

    def __str__(self) -> str:
        return f"effectiveness as of {self.as_of}: {len(self.rows)} rows"
