"""What the pulse app keeps: the week-2 and week-4 pulse checks as dated snapshots, so a district
compares this September with the last ones after the attendance records behind them are gone."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from districts.models import District, School


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
