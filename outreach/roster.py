"""The roster with risk: every student a person may see, with the engine's figures (rate, days
missed, band, tier), open flags and the owner the huddle gave them, sortable and filterable.

It lives in outreach because its columns come from tiers (metrics, flags) and outreach (owners)
while students sits below both. Reads only precomputed results: one LEFT JOIN on the current
run's metrics and two correlated subqueries, whatever the number of students."""

import dataclasses

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from districts.access import DistrictAccess
from districts.models import Membership, School
from students.models import GRADE_ORDER, Student
from students.selectors import student_search
from tiers.models import BAND_CHOICES, Flag
from tiers.policy import BANDS, INSUFFICIENT_DAYS
from tiers.selectors import current_run

from .models import HuddleRow

BAND_ORDER = {band: index for index, band in enumerate([INSUFFICIENT_DAYS, *BANDS])}
BAND_LABELS = dict(BAND_CHOICES)
TIERS = (0, 2, 3)

# sort key → the fields it orders by (nulls last either way); "-key" reverses.
SORTS = {
    "name": ("last_name", "first_name"),
    "grade": ("grade_order",),
    "school": ("school_name",),
    "rate": ("rate",),
    "missed": ("missed",),
    "band": ("band_order",),
    "tier": ("tier",),
    "flags": ("open_flags",),
    "owner": ("owner_last_name", "owner_first_name"),
}
DEFAULT_SORT = "-rate"


@dataclasses.dataclass(frozen=True)
class RosterFilters:
    query: str = ""
    school: School | None = None
    grade: str = ""
    band: str = ""
    tier: int | None = None
    sort: str = DEFAULT_SORT


def _ordering(sort: str) -> list:
    key = sort.lstrip("-")
    if key not in SORTS:
        key, sort = DEFAULT_SORT.lstrip("-"), DEFAULT_SORT
    descending = sort.startswith("-")
    fields = [F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True) for field in SORTS[key]]
    return [*fields, F("last_name").asc(), F("first_name").asc(), F("pk").asc()]


def risk_roster(*, access: DistrictAccess, filters: RosterFilters) -> QuerySet[Student]:
    """The visible students matching the filters, each annotated with rate, missed, band,
    band_order, tier, school_name, open_flags and owner_id (None where no figures yet)."""
    students = student_search(access=access, query=filters.query, school=filters.school, grade=filters.grade)
    run = current_run()
    students = students.annotate(
        current=FilteredRelation("metrics", condition=Q(metrics__run_id=run.pk if run else None)),
    ).annotate(
        rate=F("current__absence_rate"),
        missed=F("current__absent_days"),
        band=F("current__band"),
        tier=F("current__tier"),
        school_name=F("current__current_school__name"),
    )
    if filters.band:
        students = students.filter(band=filters.band)
    if filters.tier is not None:
        students = students.filter(tier=filters.tier)
    open_flags = (
        Flag.objects.filter(student=OuterRef("pk"), status__in=Flag.OPEN_STATUSES)
        .order_by()
        .values("student")
        .annotate(n=Count("pk"))
        .values("n")
    )
    owner_rows = HuddleRow.objects.filter(student=OuterRef("pk"), outcome=HuddleRow.Outcome.OPEN).order_by(
        "-huddle__week_start", "-pk"
    )
    return students.annotate(
        open_flags=Coalesce(Subquery(open_flags, output_field=IntegerField()), Value(0)),
        owner_id=Subquery(owner_rows.values("owner_id")[:1]),
        owner_last_name=Subquery(owner_rows.values("owner__user__last_name")[:1]),
        owner_first_name=Subquery(owner_rows.values("owner__user__first_name")[:1]),
        band_order=Case(*[When(band=band, then=Value(order)) for band, order in BAND_ORDER.items()], default=None),
        grade_order=Case(*[When(grade=grade, then=Value(order)) for grade, order in GRADE_ORDER.items()], default=None),
    ).order_by(*_ordering(filters.sort))


def owners_by_id(owner_ids) -> dict[int, Membership]:
    """The owners of a page of rows, in one query."""
    ids = {owner_id for owner_id in owner_ids if owner_id}
    return Membership.objects.select_related("user").in_bulk(ids) if ids else {}


def owner_name(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return membership.user.get_full_name() or membership.user.email
