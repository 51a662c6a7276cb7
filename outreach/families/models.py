"""Tier 1 messaging to families: message templates per district, tier and language; who a
family calls for help; nudge letter batches; and the same-day absence notice outbox.

Registered through outreach/models.py (one import line), so the app's migrations see them.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School
from students.models import Guardian, Student

from ..models import OutreachAction


class MessageKind(models.TextChoices):
    """What a template is for (SPEC §7, issue 13), with the tier it is written for by default."""

    WELCOME = "welcome", _("Welcome / back to school")
    RECOGNITION = "recognition", _("Positive recognition (improved attendance)")
    EARLY_OUTREACH = "early_outreach", _("Early outreach script (for the caller)")
    FOLLOW_UP = "follow_up", _("Follow-up")
    TIER3_INVITATION = "tier3_invitation", _("Tier 3 meeting invitation")
    NUDGE_LETTER = "nudge_letter", _("Personalised nudge letter")
    ABSENCE_NOTICE = "absence_notice", _("Same-day absence notice")
    HELP_LINE = "help_line", _("“How to get help” line")


DEFAULT_TIER = {
    MessageKind.WELCOME: 1,
    MessageKind.RECOGNITION: 1,
    MessageKind.EARLY_OUTREACH: 2,
    MessageKind.FOLLOW_UP: 2,
    MessageKind.TIER3_INVITATION: 3,
    MessageKind.NUDGE_LETTER: 1,
    MessageKind.ABSENCE_NOTICE: 1,
    MessageKind.HELP_LINE: 1,
}


class MessageTemplate(models.Model):
    """A district's wording for one kind of message, for one tier, in one language."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=MessageKind.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=[(1, _("Tier 1")), (2, _("Tier 2")), (3, _("Tier 3"))])
    language = models.CharField(_("language"), max_length=16)  # a family-language code (languages.family)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["kind", "tier", "language"]
        constraints = [
            models.UniqueConstraint(fields=["district", "kind", "tier", "language"], name="messagetemplate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} tier {self.tier} ({self.language})"


class FamilyContact(models.Model):
    """Whom families call, per school (or the district's default when school is blank), and the
    line in a language the district has no templates for (on the district default row)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    name = models.CharField(_("contact person"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32)

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "school"], condition=Q(school__isnull=False), name="familycontact_unique_school"
            ),
            models.UniqueConstraint(
                fields=["district"], condition=Q(school__isnull=True), name="familycontact_unique_default"
            ),
        ]


class LanguageLine(models.Model):
    """A short line in a family's language, added to the English message when the district has
    no template in that language ("This message is from your child's school; call … for help
    in Vietnamese")."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(_("language"), max_length=16)
    text = models.CharField(_("line"), max_length=500)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["district", "language"], name="languageline_unique")]


class NoticeSettings(models.Model):
    """A district's same-day notice preferences; a district without a row gets the defaults."""

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(_("send same-day absence notices"), default=True)
    quiet_start = models.TimeField(_("quiet hours start"), default=datetime.time(20, 0))
    quiet_end = models.TimeField(_("quiet hours end"), default=datetime.time(7, 30))

    objects = ScopedManager(district="district")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class NoticeOptOut(models.Model):
    """A guardian who asked not to get same-day notices on a channel."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "guardian", "channel"], name="noticeoptout_unique")]


class AbsenceNotice(models.Model):
    """One same-day notice to one guardian address. The unique key makes "never twice" a fact of
    the database: a re-run import or a retried task finds the row already there, and a notice is
    claimed (status sending) before its message leaves and recorded (sent) after."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Waiting to retry")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled (corrected to present)")
        UNCONFIRMED = "unconfirmed", _("Not confirmed (stopped while sending)")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(Guardian, on_delete=models.SET_NULL, null=True, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)  # the email address or phone digits, normalised
    language = models.CharField(max_length=16)  # the language the message is written in
    family_language = models.CharField(max_length=16)  # the guardian's own (differs when it fell back)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    due_at = models.DateTimeField()  # after the district's quiet hours
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-date", "student", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "student", "date", "channel", "recipient"], name="absencenotice_never_twice"
            ),
        ]
        indexes = [models.Index(fields=["district", "status", "due_at"], name="absencenotice_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel} notice for {self.student_id} on {self.date}"


class LetterBatch(models.Model):
    """One printing of nudge letters: who was picked and as of when. The same batch (school,
    selection, date) is refused a second time unless someone asks for it again."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    selection = models.CharField(max_length=64)  # "absences:2", "band:severe", "flag:t2_chronic", "section:new"
    as_of = models.DateField()
    repeat = models.PositiveSmallIntegerField(default=0)  # 0 the first time; a batch asked for again counts up
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "school", "selection", "as_of", "repeat"],
                condition=Q(school__isnull=False),
                name="letterbatch_once_school",
            ),
            models.UniqueConstraint(
                fields=["district", "selection", "as_of", "repeat"],
                condition=Q(school__isnull=True),
                name="letterbatch_once_district",
            ),
        ]

    def __str__(self) -> str:
        return f"letters {self.selection} as of {self.as_of}"


class Letter(models.Model):
    """One student's letter in a batch, and the outreach action that puts it on their timeline."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(LetterBatch, on_delete=models.CASCADE, related_name="letters")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16)
    absent_days = models.DecimalField(max_digits=7, decimal_places=3)
    membership_days = models.PositiveSmallIntegerField()
    action = models.ForeignKey(OutreachAction, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "batch", "student"], name="letter_once_per_batch")]
