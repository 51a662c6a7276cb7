"""Reads for the import pages: history, held rows, unknown codes and the import-health figures.
Every function runs inside the district's scope."""

import bisect
import datetime
from collections import defaultdict

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from districts.models import School
from students.models import AttendanceCode, AttendanceRecord, CalendarDay, Enrollment, Guardian

from .messages import message_text, stage_text
from .models import ColumnMapping, ImportRun, QuarantinedRow, QuarantineReason, SchoolAlias, reason_words
from .services import progress_key
from .undo import undo_blockers, undo_summary, undoable

HEALTH_EXAMPLES = 5
# Attendance older than this many school days is stale: a nightly feed that stopped, not a
# school with nothing to report (today's attendance arriving tonight is normal: age 1).
STALE_SCHOOL_DAYS = 2


def import_run_list() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("created_by", "mapping")


def import_run_get(*, run_id: int) -> ImportRun:
    """A run of another district is indistinguishable from one that does not exist."""
    run = import_run_list().filter(pk=run_id).first()
    if run is None:
        raise Http404("No such import.")
    return run


def import_progress(*, run: ImportRun) -> dict:
    """Live figures while the run works (from the cache), its stored outcome once finished."""
    stored = {
        "stage": run.stage,
        "rows_read": run.rows_read,
        "rows_written": run.rows_written,
        "rows_quarantined": run.rows_quarantined,
        "step": 0,
        "steps": 0,
    }
    if run.is_finished:
        live = {**stored, "step": 1, "steps": 1}
    else:
        live = {**stored, **(cache.get(progress_key(run)) or {})}
    return {**live, "stage": stage_text(live["stage"]) or run.get_status_display()}


def undo_state(*, run: ImportRun) -> dict | None:
    """What the run page says about undoing this run: what an undo would do, or why it cannot
    be done now. None for runs that are never undone (rejected, undo runs)."""
    if not undoable(run):
        return None
    if run.undone_by_id:
        return {"done_by": run.undone_by_id}
    return {"blockers": [message_text(blocker) for blocker in undo_blockers(run)], "summary": undo_summary(run)}


def column_mapping_list() -> QuerySet[ColumnMapping]:
    return ColumnMapping.objects.all()


def column_mapping_get(*, mapping_id: int) -> ColumnMapping:
    mapping = ColumnMapping.objects.filter(pk=mapping_id).first()
    if mapping is None:
        raise Http404("No such column mapping.")
    return mapping


def held_row_list(*, run: ImportRun | None = None, reason: str = "", school_sis_id: str = "", open_only: bool = True):
    rows = QuarantinedRow.objects.select_related("run")
    if open_only:
        rows = rows.filter(resolved=False)
    if run is not None:
        rows = rows.filter(run=run)
    if reason:
        rows = rows.filter(reason=reason)
    if school_sis_id:
        rows = rows.filter(school_sis_id=school_sis_id)
    return rows.order_by("-run_id", "file_name", "row_number")


def held_reason_counts() -> list[dict]:
    """Open held rows per reason, most first: {"reason": code, "words": in words, "rows": n}."""
    counts = (
        QuarantinedRow.objects.filter(resolved=False)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    return [{"reason": reason, "words": reason_words(reason), "rows": n} for reason, n in counts]


def unknown_school_list() -> list[dict]:
    """School ids held rows name that are neither a school nor an alias, with their row counts
    and the files they came from, for the admin to map or add."""
    known = set(School.objects.values_list("sis_id", flat=True)) | set(
        SchoolAlias.objects.values_list("sis_id", flat=True)
    )
    held = QuarantinedRow.objects.filter(resolved=False, reason=QuarantineReason.UNKNOWN_SCHOOL)
    files = defaultdict(set)
    for sis_id, file_name in held.values_list("school_sis_id", "file_name").distinct().order_by():
        files[sis_id].add(file_name)
    counts = held.values_list("school_sis_id").annotate(n=Count("id")).order_by("-n", "school_sis_id")
    return [
        {"sis_id": sis_id, "rows": n, "files": sorted(files[sis_id])} for sis_id, n in counts if sis_id not in known
    ]


def school_alias_list() -> QuerySet[SchoolAlias]:
    return SchoolAlias.objects.select_related("school")


def discarded_counts() -> dict[str, int]:
    """Held rows an admin discarded, per school id in the files ("" for rows with none)."""
    rows = QuarantinedRow.objects.filter(resolution=QuarantinedRow.Resolution.DISCARDED)
    return dict(rows.values_list("school_sis_id").annotate(n=Count("id")).order_by())


def unknown_code_list() -> list[dict]:
    """Codes met in imports but missing from the code map, with how many rows each holds."""
    mapped = set(AttendanceCode.objects.values_list("code", flat=True))
    rows = (
        QuarantinedRow.objects.filter(resolved=False, reason=QuarantineReason.UNKNOWN_CODE)
        .values("code")
        .annotate(rows=Count("id"), schools=Count("school_sis_id", distinct=True))
        .order_by("-rows", "code")
    )
    return [{**row, "mapped": row["code"] in mapped} for row in rows]


def attendance_code_list() -> QuerySet[AttendanceCode]:
    return AttendanceCode.objects.all()


def replayable_count() -> int:
    return QuarantinedRow.objects.filter(resolved=False).exclude(reason=QuarantineReason.CONFLICTING_DUPLICATE).count()


# --- import health ------------------------------------------------------------------------


def import_health(*, today: datetime.date) -> dict:
    """Per school: the last date attendance arrived, instructional days with no attendance at
    all, unknown codes, held rows by reason, enrollment gaps and overlaps, and enrolled
    students without a guardian phone or email. Rows held for a school id we do not know are
    listed apart, since they belong to no school yet."""
    schools = list(School.objects.order_by("name"))
    last_dates = dict(AttendanceRecord.objects.values_list("school_id").annotate(last=Max("date")))
    received_until = min(filter(None, [max(last_dates.values(), default=None), today]), default=None)
    silent = _days_without_attendance(schools, received_until)
    held = _held_by_school()
    enrollment_issues = _enrollment_gaps_and_overlaps(today)
    no_contact = _students_without_guardian_contact(today)
    age = _school_days_since(schools, last_dates, today)
    discarded = discarded_counts()
    rows = []
    for school in schools:
        row = {
            "school": school,
            "last_attendance": last_dates.get(school.pk),
            "school_days_since": age.get(school.pk),
            "stale": age.get(school.pk, 0) > STALE_SCHOOL_DAYS,
            # Nothing ever received is not clean: it is the stalest feed of all (issue 10).
            "no_attendance": school.pk not in last_dates,
            "discarded": discarded.get(school.sis_id, 0),
            "days_without_attendance": silent.get(school.pk, []),
            "unknown_codes": held.get(school.sis_id, {}).get("codes", {}),
            "held": held.get(school.sis_id, {}).get("reasons", {}),
            "gaps": enrollment_issues["gaps"].get(school.pk, []),
            "overlaps": enrollment_issues["overlaps"].get(school.pk, []),
            "no_guardian_contact": no_contact.get(school.pk, []),
        }
        row["clean"] = not any(
            row[key]
            for key in (
                "stale", "no_attendance", "days_without_attendance", "unknown_codes", "held", "gaps", "overlaps",
                "no_guardian_contact",
            )
        )  # fmt: skip
        rows.append(row)
    known = {school.sis_id for school in schools}
    unplaced = {sis_id: figures for sis_id, figures in held.items() if sis_id not in known}
    return {
        "schools": rows,
        "unplaced": unplaced,
        "received_until": received_until,
        "clean": all(row["clean"] for row in rows) and not unplaced,
        "examples": HEALTH_EXAMPLES,
        "stale_after": STALE_SCHOOL_DAYS,
        "discarded": sum(discarded.values()),
        "discarded_unplaced": {sis_id: n for sis_id, n in discarded.items() if sis_id not in known},
    }


def _school_days_since(schools, last_dates: dict, today: datetime.date) -> dict[int, int]:
    """Per school with attendance: the instructional days after its latest attendance and
    before today (today's arrives tonight), on the school's own calendar over the district
    default, as pulse's data-quality page counts them. Days the calendar does not list are not
    counted: without a calendar nobody can say attendance was due."""
    dates = [day for day in last_dates.values() if day]
    if not dates:
        return {}
    default, own = {}, defaultdict(dict)
    for school_id, day, instructional in CalendarDay.objects.filter(date__gt=min(dates), date__lt=today).values_list(
        "school_id", "date", "instructional"
    ):
        (own[school_id] if school_id else default)[day] = instructional
    ages = {}
    for school in schools:
        last = last_dates.get(school.pk)
        if last is None:
            continue
        calendar = {**default, **own.get(school.pk, {})}
        ages[school.pk] = sum(1 for day, taught in calendar.items() if taught and day > last)
    return ages


def _days_without_attendance(schools, until: datetime.date | None) -> dict[int, list[datetime.date]]:
    """Instructional days (the school's own calendar over the district default) up to `until`
    on which not one record arrived for the school. Schools that never received any are left
    out: their "last attendance" already says so."""
    if until is None:
        return {}
    default, own = {}, defaultdict(dict)
    for school_id, day, instructional in CalendarDay.objects.filter(date__lte=until).values_list(
        "school_id", "date", "instructional"
    ):
        (own[school_id] if school_id else default)[day] = instructional
    with_records = defaultdict(set)
    for school_id, day in AttendanceRecord.objects.filter(date__lte=until).values_list("school_id", "date").distinct():
        with_records[school_id].add(day)
    missing = {}
    for school in schools:
        if school.pk not in with_records:
            continue
        calendar = {**default, **own.get(school.pk, {})}
        days = sorted(
            day for day, instructional in calendar.items() if instructional and day not in with_records[school.pk]
        )
        if days:
            missing[school.pk] = days
    return missing


def _held_by_school() -> dict[str, dict]:
    figures: dict[str, dict] = defaultdict(lambda: {"codes": {}, "reasons": {}})
    open_rows = QuarantinedRow.objects.filter(resolved=False).exclude(school_sis_id="")
    for sis_id, reason, code, count in open_rows.values_list("school_sis_id", "reason", "code").annotate(n=Count("id")):
        school = figures[sis_id]
        school["reasons"][reason] = school["reasons"].get(reason, 0) + count
        if reason == QuarantineReason.UNKNOWN_CODE:
            school["codes"][code] = school["codes"].get(code, 0) + count
    return dict(figures)


def _enrollment_gaps_and_overlaps(today: datetime.date) -> dict[str, dict[int, list]]:
    """A student's consecutive enrollments that leave instructional days uncovered (gap) or
    cover the same day twice (overlap). Reported at the school of the later enrollment."""
    rows = Enrollment.objects.order_by("student_id", "entry_date", "id").values_list(
        "pk", "student_id", "school_id", "entry_date", "exit_date"
    )
    instructional = sorted(CalendarDay.objects.filter(instructional=True).values_list("date", flat=True).distinct())
    found = {"gaps": defaultdict(list), "overlaps": defaultdict(list)}
    flagged = []
    student, covered_until = None, None  # the latest exit so far; None while one is open
    for pk, student_id, school_id, entry, exit_date in rows:
        if student_id == student:
            if covered_until is None or covered_until > entry:
                flagged.append(("overlaps", school_id, pk))
            elif _instructional_between(instructional, covered_until, entry):
                flagged.append(("gaps", school_id, pk))
            if covered_until is not None:
                covered_until = None if exit_date is None else max(covered_until, exit_date)
        else:
            student, covered_until = student_id, exit_date
    enrollments = Enrollment.objects.select_related("student").in_bulk([pk for _, _, pk in flagged])
    for kind, school_id, pk in flagged:
        found[kind][school_id].append(enrollments[pk])
    return {kind: dict(by_school) for kind, by_school in found.items()}


def _instructional_between(days: list[datetime.date], start: datetime.date, end: datetime.date) -> bool:
    position = bisect.bisect_left(days, start)
    return position < len(days) and days[position] < end


def _students_without_guardian_contact(today: datetime.date) -> dict[int, list]:
    current = Enrollment.objects.filter(entry_date__lte=today).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=today)
    )
    reachable = Guardian.objects.exclude(phone="", email="").values("student_id")
    missing = current.exclude(student_id__in=reachable).select_related("student").order_by("student__last_name")
    by_school = defaultdict(list)
    for enrollment in missing:
        by_school[enrollment.school_id].append(enrollment.student)
    return dict(by_school)
