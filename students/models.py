"""Students, where and when they are enrolled, the school calendars, and their attendance.

Attendance is stored as events: only non-present days have a row (SPEC §3). A day with no row,
on an instructional day inside an enrollment, is a present day. At 200,000 students this is
about 4M rows a year instead of 35M, and is what the nightly engine reads.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, Membership, School

from .text import strip_bidi

GRADES = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
GRADE_ORDER = {grade: index for index, grade in enumerate(GRADES)}


class AttendanceCategory(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT_EXCUSED = "absent_excused", _("Absent, excused")
    ABSENT_UNEXCUSED = "absent_unexcused", _("Absent, unexcused")
    SUSPENSION_OUT_OF_SCHOOL = "suspension_out_of_school", _("Out-of-school suspension")
    SUSPENSION_IN_SCHOOL = "suspension_in_school", _("In-school suspension")
    TARDY = "tardy", _("Tardy")
    EARLY_DISMISSAL = "early_dismissal", _("Early dismissal")
    PARTIAL_DAY = "partial_day", _("Partial day")


# A record in one of these categories makes the day an absent day whatever its minutes.
WHOLE_DAY_ABSENT_CATEGORIES = frozenset(
    {
        AttendanceCategory.ABSENT_EXCUSED,
        AttendanceCategory.ABSENT_UNEXCUSED,
        AttendanceCategory.SUSPENSION_OUT_OF_SCHOOL,
    }
)
# These add up their minutes; the day counts as absent under the half-day rule.
MINUTES_CATEGORIES = frozenset(
    {AttendanceCategory.PARTIAL_DAY, AttendanceCategory.TARDY, AttendanceCategory.EARLY_DISMISSAL}
)
PRESENT_CATEGORIES = frozenset({AttendanceCategory.PRESENT, AttendanceCategory.SUSPENSION_IN_SCHOOL})

# The canonical CSV's default code map (SPEC §4).
DEFAULT_CODE_MAP = {
    "P": AttendanceCategory.PRESENT,
    "E": AttendanceCategory.ABSENT_EXCUSED,
    "U": AttendanceCategory.ABSENT_UNEXCUSED,
    "S": AttendanceCategory.SUSPENSION_OUT_OF_SCHOOL,
    "I": AttendanceCategory.SUSPENSION_IN_SCHOOL,
    "T": AttendanceCategory.TARDY,
    "D": AttendanceCategory.EARLY_DISMISSAL,
    "H": AttendanceCategory.PARTIAL_DAY,
}


class Student(models.Model):
    # No index of its own: the unique key leads with it (one index less per imported row).
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    sis_id = models.CharField("SIS id", max_length=64)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    birth_date = models.DateField(null=True, blank=True)
    grade = models.CharField(max_length=4, blank=True)
    home_language = models.CharField(max_length=64, blank=True)
    econ_disadvantaged = models.BooleanField("economically disadvantaged", default=False)
    disability = models.BooleanField("student with disabilities", default=False)
    english_learner = models.BooleanField(default=False)
    race_ethnicity = models.CharField("race/ethnicity", max_length=64, blank=True)
    homeless = models.BooleanField("McKinney-Vento / homeless", default=False)
    foster = models.BooleanField("in foster care", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["last_name", "first_name", "sis_id"]
        constraints = [models.UniqueConstraint(fields=["district", "sis_id"], name="student_unique_sis_id")]
        indexes = [models.Index(fields=["district", "last_name", "first_name"], name="student_name_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return strip_bidi(f"{self.first_name} {self.last_name}").strip()

    @property
    def audit_label(self) -> str:
        return f"{self.full_name} ({self.sis_id})"

    @property
    def subgroups(self) -> list[str]:
        flags = ["econ_disadvantaged", "disability", "english_learner", "homeless", "foster"]
        return [str(self._meta.get_field(name).verbose_name) for name in flags if getattr(self, name)]


class Guardian(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone call")
        TEXT = "text", _("Text message")
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")

    # No index of its own: the unique key leads with it (one index less per imported row).
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=64, blank=True)
    preferred_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["student", "name"]
        constraints = [models.UniqueConstraint(fields=["district", "student", "name"], name="guardian_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email)


class Enrollment(models.Model):
    """A stay at one school. The exit date is the first day *not* enrolled (SPEC §4)."""

    # No index of their own: the table is partitioned by district (students.partitions), so
    # district_id is one value within a partition and leads no index but the primary key; the
    # unique key leads with the student and the school index with the school, which serve the
    # foreign keys' lookups too (two indexes less to build on a first import).
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments", db_index=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="enrollments", db_index=False)
    grade = models.CharField(max_length=4, blank=True)
    entry_date = models.DateField()
    exit_date = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=100, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["student", "entry_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "school", "entry_date", "district"], name="enrollment_unique_entry"
            ),
            models.CheckConstraint(
                condition=Q(exit_date__isnull=True) | Q(exit_date__gte=F("entry_date")),
                name="enrollment_exit_not_before_entry",
            ),
        ]
        indexes = [models.Index(fields=["school", "entry_date"], name="enrollment_school_idx")]

    def __str__(self) -> str:
        return f"{self.student_id} at {self.school_id} from {self.entry_date}"


class CalendarDay(models.Model):
    """One date of a school's calendar; a row without a school is the district default."""

    # No index of its own: both unique keys lead with it, and the table is partitioned by it.
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    date = models.DateField()
    instructional = models.BooleanField(default=True)
    minutes = models.PositiveSmallIntegerField(default=360)
    event = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "school", "date"],
                condition=Q(school__isnull=False),
                name="calendarday_unique_school_date",
            ),
            models.UniqueConstraint(
                fields=["district", "date"], condition=Q(school__isnull=True), name="calendarday_unique_default_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} ({'instructional' if self.instructional else 'no school'})"


class AttendanceCode(models.Model):
    """The district's own code and the one SPEC category it means. Unknown codes are never guessed."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=32)
    category = models.CharField(max_length=32, choices=AttendanceCategory.choices)
    description = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="attendancecode_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} → {self.get_category_display()}"

    @property
    def description_text(self) -> str:
        """The description in the reader's language when it is the default one (its category's
        name, stored in English by students.services.attendance_codes_install_defaults, or in
        another interface language by an older install); a description the district wrote, as
        written."""
        if self.category in AttendanceCategory.values and self.description in _category_names(self.category):
            return str(AttendanceCategory(self.category).label)
        return self.description


def _category_names(category: str) -> set[str]:
    """A category's name in every interface language."""
    label = AttendanceCategory(category).label
    names = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(label))
    return names


class AttendanceRecord(models.Model):
    """A non-present day (or part of one) for a student at a school."""

    # No index of their own, as for enrollments: district_id leads no index but the primary key
    # (one value within a district's partition), the unique key leads with the student and the
    # school/date index with the school. A first import of 3M rows built five indexes (7.2 s at
    # 200,000 students); now three.
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="attendance_records", db_index=False)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+", db_index=False)
    date = models.DateField()
    code = models.CharField(max_length=32)
    # Copied from the code map when stored, so the nightly engine reads one table.
    category = models.CharField(max_length=32, choices=AttendanceCategory.choices)
    minutes_absent = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "school", "date", "code", "district"], name="attendance_unique_event"
            )
        ]
        indexes = [models.Index(fields=["school", "date"], name="attendance_school_date_idx")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.date} {self.code}"


class PriorYearSummary(models.Model):
    """Last years' totals, imported or computed; multi-year persistence reads these."""

    # No index of its own: the unique key leads with it (one index less per imported row).
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", db_index=False)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="prior_years")
    school_year = models.CharField(max_length=9, help_text="e.g. 2024-25")
    days_enrolled = models.PositiveSmallIntegerField()
    days_absent = models.PositiveSmallIntegerField()

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["student", "-school_year"]
        constraints = [
            models.UniqueConstraint(fields=["district", "student", "school_year"], name="prioryear_unique_year"),
            models.CheckConstraint(
                condition=Q(days_absent__lte=F("days_enrolled")), name="prioryear_absent_le_enrolled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.school_year}: {self.days_absent}/{self.days_enrolled}"

    @property
    def absence_rate(self) -> float:
        return self.days_absent / self.days_enrolled if self.days_enrolled else 0.0


class MentorAssignment(models.Model):
    """A mentor's assigned student: mentors see and act on these students only."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="mentor_assignments")
    mentor = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="mentees")
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(district="district")

    class Meta:
        ordering = ["student"]
        constraints = [
            models.UniqueConstraint(fields=["district", "student", "mentor"], name="mentorassignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mentor_id} mentors {self.student_id}"
