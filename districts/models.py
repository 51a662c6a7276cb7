"""The tenant (District), its schools, who may act in it, and the audit trail.

Every district-owned model carries its own `district` foreign key, part of each unique
constraint, and a ScopedManager: a query outside `scope(district=...)` raises instead of
returning every district's rows.
"""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as America/New_York.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address; what they may do comes from memberships."""

    username = None
    email = models.EmailField("email address", unique=True)
    # The interface language this person chose in the header's switch; blank follows the browser.
    language = models.CharField(_("language"), max_length=8, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        # One spelling per address, so "Ann@District.org" cannot become a second account.
        self.email = self.email.strip().lower()
        existing = not self._state.adding
        password_changed = self._password is not None  # set_password() was called: a change or a reset
        super().save(*args, **kwargs)
        if existing and (password_changed or not self.is_active):
            # A stolen token must not outlive the password it was obtained with, nor the account.
            from .tokens import api_tokens_revoke_all

            api_tokens_revoke_all(user=self)


class District(models.Model):
    """A tenant: one school district and the policy settings its staff chose."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="America/New_York", validators=[validate_timezone])
    school_year_start = models.DateField(null=True, blank=True)
    school_year_end = models.DateField(null=True, blank=True)
    # Thresholds and trigger numbers live in the versioned calculation policy (tiers app);
    # this holds the few district preferences that are not part of a calculation.
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school_year_end__isnull=True)
                | Q(school_year_start__isnull=True)
                | Q(school_year_end__gt=models.F("school_year_start")),
                name="district_year_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class School(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="schools")
    sis_id = models.CharField("SIS id", max_length=64)
    name = models.CharField(max_length=200)
    grade_low = models.CharField(max_length=4, blank=True)
    grade_high = models.CharField(max_length=4, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["district", "sis_id"], name="school_unique_sis_id")]

    def __str__(self) -> str:
        return self.name

    @property
    def grade_span(self) -> str:
        if self.grade_low and self.grade_high:
            return f"{self.grade_low}–{self.grade_high}"
        return self.grade_low or self.grade_high


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("District admin")
    DISTRICT_STAFF = "district_staff", _("District staff")
    ATTENDANCE_LEAD = "attendance_lead", _("Attendance lead")
    COUNSELOR = "counselor", _("Counselor")
    MENTOR = "mentor", _("Mentor")


# Roles that act on particular schools; the others act district-wide (mentors act on the
# students assigned to them, which the students app records).
SCHOOL_ROLES = frozenset({Role.ATTENDANCE_LEAD, Role.COUNSELOR})
DISTRICT_WIDE_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})


class Membership(models.Model):
    """A user's standing in one district; without one the district does not exist for them."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the email with the link to set a first password last went out (a new account).
    welcome_sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["user__email"]
        constraints = [models.UniqueConstraint(fields=["district", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.district_id}"


class RoleGrant(models.Model):
    """One role held through a membership; school roles name the school they apply to."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["role", "school__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "membership", "role", "school"],
                condition=Q(school__isnull=False),
                name="rolegrant_unique_school_role",
            ),
            models.UniqueConstraint(
                fields=["district", "membership", "role"],
                condition=Q(school__isnull=True),
                name="rolegrant_unique_district_role",
            ),
        ]

    def __str__(self) -> str:
        label = str(Role(self.role).label)
        return f"{label} — {self.school}" if self.school_id else label


class Invitation(models.Model):
    """A role offered to someone who already has an AttendNC account (in another district). They
    join only by accepting it, signed in as that address: until then the district knows only
    what it typed, never the name on the account."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)  # as the inviting district entered it
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    invited_by = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the emailed token
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["email", "role"]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_role_display()}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None

    @property
    def role_label(self) -> str:
        label = Role(self.role).label
        return f"{label} — {self.school}" if self.school_id else str(label)


class ThrottleCounter(models.Model):
    """Sign-in and password-reset counters, kept here while Redis is not there
    (districts.login_throttle). `name` is a digest: no email or address is stored."""

    name = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"


class AuditEvent(models.Model):
    """Who saw or exported what, when and from where (FERPA). Append-only by design."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        CHANGE = "change", _("Changed")
        LOGIN = "login", _("Logged in")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    user_email = models.EmailField(blank=True)  # survives the user's later rename or removal
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Ids of every student the response or export showed (districts.audit): one row per response,
    # however many students. PostgreSQL indexes it with GIN for "who saw student X".
    students = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["district", "object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.user_email} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events cannot be deleted.")

    @property
    def actor(self) -> str:
        """The person, or for a management command the system account that ran it."""
        if self.user_email:
            return self.user_email
        os_user = self.detail.get("os_user") if isinstance(self.detail, dict) else None
        return gettext("%(account)s (command line)") % {"account": os_user} if os_user else ""

    @property
    def record_type_text(self) -> str:
        """The record type in the reader's language (stored as a code: districts.audit_text)."""
        from .audit_text import record_type_text

        return record_type_text(self.object_type)

    @property
    def label_text(self) -> str:
        """The label in the reader's language where the sources wrote it in English; a name or
        a title as written (districts.audit_text)."""
        from .audit_text import label_text

        return label_text(self.object_type, self.object_label, self.detail)
