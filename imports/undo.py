"""Undoing an import: the district's rows exactly as they were before it, row for row.

An import keeps what it did (imports.models.ImportChange, written in its own transaction): the
ids of the rows it added, and every row it changed or removed as it was before. An undo deletes
the added rows, writes the earlier values back over the changed ones and puts the removed ones
back with their own ids; the held rows it made are closed, and the ones it closed reopen.

An undo never writes over what came after. It is refused when a later import (or replay) that
was not itself undone changed or removed a row this import wrote, or added again a row it
removed, or when rows elsewhere (a later import's attendance, the nightly run's flags, a contact
logged by a lead) now refer to a school or student it added. The refusal names them: undo the
later import first, newest first, and the earlier one becomes undoable again.
"""

import dataclasses

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from districts.tenancy import district_sql
from students import partitions

from .loading import TABLES
from .messages import ImportMessage, said
from .models import ImportChange, ImportRun, QuarantinedRow

# Children before their parents, so no row is deleted while a row of this import refers to it.
ORDER = [
    "students.attendancerecord",
    "students.prioryearsummary",
    "students.guardian",
    "students.calendarday",
    "students.enrollment",
    "students.student",
    "districts.school",
    "students.attendancecode",
]
ENTITY_OF = {**{table.label: entity for entity, table in TABLES.items() if entity != "calendar_default"}}
ENTITY_OF["students.attendancecode"] = "codes"
NATURAL_KEYS = {
    table.label: ("district_id", *table.keys) for entity, table in TABLES.items() if entity != "calendar_default"
}
NATURAL_KEYS["students.attendancecode"] = ("district_id", "code")
CHUNK = 5000


@dataclasses.dataclass
class UndoCounts:
    deleted: int = 0  # rows the import had added
    restored: int = 0  # rows it had changed, back to their earlier values
    returned: int = 0  # rows it had removed, back with their own ids


def undoable(run: ImportRun) -> bool:
    return run.kind in (ImportRun.Kind.IMPORT, ImportRun.Kind.REPLAY) and run.status == ImportRun.Status.SUCCEEDED


def undo_summary(run: ImportRun) -> dict[str, int]:
    """How many rows the undo would delete, restore and bring back."""
    counts = {"added": 0, "changed": 0, "removed": 0}
    for action, row_ids, row_count in run.changes.values_list("action", "row_ids", "row_count"):
        counts[action] += len(row_ids) if row_ids is not None else row_count if row_count is not None else 1
    return counts


def undo_blockers(run: ImportRun) -> list[ImportMessage]:
    """Why this run cannot be undone now; empty when it can. Each reason reads as its English
    sentence and carries a code and figures (imports.messages): the worker stores them, the page
    shows them in the reader's language (`message_text`)."""
    if not undoable(run):
        return [said("undo.not_undoable")]
    if run.undone_by_id:
        return [said("undo.already_undone", undo=run.undone_by_id)]
    if not run.journaled:
        return [said("undo.not_journaled")]
    busy = ImportRun.objects.filter(status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]).exclude(
        kind=ImportRun.Kind.UNDO, undoes=run
    )
    if busy.exists():
        return [said("undo.busy")]
    blockers = []
    later = _later_runs(run)
    mine = _rows_of(run)
    for label in ORDER:
        added, changed = mine.get((label, ImportChange.Action.ADDED), RowIds()), mine.get((label, "changed"), RowIds())
        touched = added | changed
        if touched and later:
            for other, count in _later_touches(later, label, touched).items():
                blockers.append(said("undo.later_import", run=other, count=count, table=label))
        returned = _removed_keys_taken(run, label)
        if returned:
            blockers.append(said("undo.removed_taken", count=returned, table=label))
        if added:
            for model, count in _referring_rows(label, added, mine).items():
                blockers.append(said("undo.referred", count=count, model=model._meta.label_lower, table=label))
    return blockers


def _later_runs(run: ImportRun) -> list[int]:
    return list(
        ImportRun.objects.filter(
            pk__gt=run.pk,
            kind__in=[ImportRun.Kind.IMPORT, ImportRun.Kind.REPLAY],
            status=ImportRun.Status.SUCCEEDED,
            undone_by__isnull=True,
        ).values_list("pk", flat=True)
    )


@dataclasses.dataclass
class RowIds:
    """Ids of one table's rows a run wrote: listed ones, and ranges holding every row of the
    district between two ids (the partition a first import made; ImportChange.first_id)."""

    ids: set[int] = dataclasses.field(default_factory=set)
    ranges: list[tuple[int, int]] = dataclasses.field(default_factory=list)

    def __contains__(self, row_id: int) -> bool:
        return row_id in self.ids or any(first <= row_id <= last for first, last in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ids or self.ranges)

    def __or__(self, other: "RowIds") -> "RowIds":
        return RowIds(self.ids | other.ids, self.ranges + other.ranges)


def _rows_of(run: ImportRun) -> dict[tuple[str, str], RowIds]:
    """(model, added|changed) → ids this run wrote."""
    rows: dict[tuple[str, str], RowIds] = {}
    changes = run.changes.filter(action__in=[ImportChange.Action.ADDED, ImportChange.Action.CHANGED])
    listed = changes.values_list("model", "action", "row_id", "row_ids", "first_id", "last_id")
    for model, action, row_id, row_ids, first_id, last_id in listed.iterator():
        bucket = rows.setdefault((model, action), RowIds())
        if row_ids is not None:
            bucket.ids.update(row_ids)
        elif first_id is not None:
            bucket.ranges.append((first_id, last_id))
        else:
            bucket.ids.add(row_id)
    return rows


def _later_touches(later: list[int], label: str, ids: RowIds) -> dict[int, int]:
    """Later runs that changed or removed any of `ids`: run → how many."""
    touches: dict[int, int] = {}
    rows = ImportChange.objects.filter(
        run_id__in=later, model=label, action__in=[ImportChange.Action.CHANGED, ImportChange.Action.REMOVED]
    ).values_list("run_id", "row_id")
    for run_id, row_id in rows.iterator():
        if row_id in ids:
            touches[run_id] = touches.get(run_id, 0) + 1
    return touches


def _removed_keys_taken(run: ImportRun, label: str) -> int:
    """Rows this run removed whose natural key a stored row holds again (putting them back would clash)."""
    model = apps.get_model(label)
    columns = NATURAL_KEYS[label]
    keys = [
        tuple(_value(model, column, data.get(column)) for column in columns)
        for data in run.changes.filter(model=label, action=ImportChange.Action.REMOVED).values_list("data", flat=True)
    ]
    taken = 0
    for start in range(0, len(keys), 500):
        query = Q(pk__in=[])
        for key in keys[start : start + 500]:
            query |= Q(**dict(zip(columns, key)))
        taken += model._default_manager.filter(query).count()
    return taken


def _referring_rows(label: str, ids: RowIds, mine: dict) -> dict:
    """Rows of other tables that refer to rows this run added and that the undo does not delete
    itself (the nightly run's flags, a lead's contacts, a later import's attendance)."""
    model = apps.get_model(label)
    found = {}
    relations = [relation for relation in model._meta.related_objects if relation.one_to_many or relation.one_to_one]
    if not relations:  # attendance, enrollments, calendar days, prior years: nothing refers to them
        return found
    # Tables referred to are never partitioned, so their added rows are listed, not ranges.
    ordered = sorted(ids.ids)
    for relation in relations:
        related = relation.related_model
        own = mine.get((related._meta.label_lower, ImportChange.Action.ADDED), set())
        count = 0
        for start in range(0, len(ordered), CHUNK):
            refs = related._default_manager.filter(**{f"{relation.field.name}__in": ordered[start : start + CHUNK]})
            count += sum(1 for pk in refs.values_list("pk", flat=True).iterator() if pk not in own)
        if count:
            found[related] = found.get(related, 0) + count
    return found


def _value(model, column: str, value):
    """A journaled (JSON) value as the model's field holds it."""
    field = next(field for field in model._meta.concrete_fields if field.attname == column)
    if value is None:
        return None
    return field.target_field.to_python(value) if field.is_relation else field.to_python(value)


# --- doing it -----------------------------------------------------------------------------


def undo_run(*, undo: ImportRun, progress) -> dict[str, UndoCounts]:
    """Undo `undo.undoes` inside one transaction, under the district's import lock. Raises
    UndoRefused (nothing written) when something came after it."""
    from .pipeline import lock_district

    run = ImportRun.objects.get(pk=undo.undoes_id)
    counts: dict[str, UndoCounts] = {}
    with transaction.atomic():
        lock_district(undo.district)
        blockers = undo_blockers(run)
        if blockers:
            raise UndoRefused(blockers)
        labels = [label for label in ORDER if run.changes.filter(model=label).exists()]
        for step, label in enumerate(labels):
            progress(stage=f"undoing:{ENTITY_OF[label]}", step=step, steps=len(labels))  # a code: messages.stage_text
            counts[ENTITY_OF[label]] = _undo_table(run, label)
        now = timezone.now()
        QuarantinedRow.objects.filter(run=run, resolved=False).update(
            resolved=True, resolution=QuarantinedRow.Resolution.UNDONE, resolved_at=now, resolved_by_run=undo
        )
        QuarantinedRow.objects.filter(resolved_by_run=run).exclude(run=run).update(
            resolved=False, resolution="", resolved_at=None, resolved_by_run=None
        )
        run.undone_by = undo
        run.save(update_fields=["undone_by"])
        # Last, as each drop may lock its whole table until the commit right after.
        for partitioning in partitions.ALL:
            partitioning.drop_if_empty(run.district_id)
    return counts


class UndoRefused(Exception):
    def __init__(self, reasons: list[ImportMessage]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def _undo_table(run: ImportRun, label: str) -> UndoCounts:
    model = apps.get_model(label)
    if connection.vendor == "postgresql":
        return _pg_undo(run, model)
    return _orm_undo(run, model)


def _pg_undo(run: ImportRun, model) -> UndoCounts:
    table = model._meta.db_table
    label = model._meta.label_lower
    columns = [field.column for field in model._meta.concrete_fields if not field.primary_key]
    journal = f"""imports_importchange c WHERE c.district_id = %(district_id)s AND c.run_id = %(run_id)s
                  AND c.model = '{label}'"""
    params = {"run_id": run.pk}
    counts = UndoCounts()
    with connection.cursor() as cursor:
        cursor.execute(
            *district_sql(
                run.district,
                f"""DELETE FROM {table} t WHERE t.district_id = %(district_id)s AND t.id IN (
                        SELECT jsonb_array_elements_text(c.row_ids)::bigint FROM {journal} AND c.action = 'added')""",
                params,
            )
        )
        counts.deleted = cursor.rowcount
        cursor.execute(
            *district_sql(
                run.district,
                f"""DELETE FROM {table} t USING {journal} AND c.action = 'added' AND c.first_id IS NOT NULL
                    AND t.district_id = %(district_id)s AND t.id BETWEEN c.first_id AND c.last_id""",
                params,
            )
        )
        counts.deleted += cursor.rowcount
        assignments = ", ".join(f"{column} = r.{column}" for column in columns if column != "district_id")
        cursor.execute(
            *district_sql(
                run.district,
                f"""UPDATE {table} t SET {assignments}
                    FROM imports_importchange c CROSS JOIN LATERAL jsonb_populate_record(NULL::{table}, c.data) r
                    WHERE c.district_id = %(district_id)s AND c.run_id = %(run_id)s AND c.model = '{label}'
                      AND c.action = 'changed' AND t.id = c.row_id AND t.district_id = %(district_id)s""",
                params,
            )
        )
        counts.restored = cursor.rowcount
        listed = ", ".join(["id", *columns])
        cursor.execute(
            *district_sql(
                run.district,
                f"""INSERT INTO {table} ({listed})
                    SELECT {", ".join(f"r.{column}" for column in ["id", *columns])}
                    FROM imports_importchange c CROSS JOIN LATERAL jsonb_populate_record(NULL::{table}, c.data) r
                    WHERE c.district_id = %(district_id)s AND c.run_id = %(run_id)s AND c.model = '{label}'
                      AND c.action = 'removed' AND r.district_id = %(district_id)s""",
                params,
            )
        )
        counts.returned = cursor.rowcount
    return counts


def _orm_undo(run: ImportRun, model) -> UndoCounts:
    label = model._meta.label_lower
    changes = run.changes.filter(model=label)
    counts = UndoCounts()
    added = changes.filter(action="added")
    listed = [row_id for row_ids in added.values_list("row_ids", flat=True) if row_ids for row_id in row_ids]
    for start in range(0, len(listed), 500):
        _total, by_model = model._default_manager.filter(pk__in=listed[start : start + 500]).delete()
        counts.deleted += by_model.get(model._meta.label, 0)
    for first_id, last_id in added.filter(first_id__isnull=False).values_list("first_id", "last_id"):
        _total, by_model = model._default_manager.filter(pk__range=(first_id, last_id)).delete()
        counts.deleted += by_model.get(model._meta.label, 0)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    changed = [_instance(model, data) for data in changes.filter(action="changed").values_list("data", flat=True)]
    if changed:
        model._default_manager.bulk_update(changed, [field.name for field in fields], batch_size=500)
    counts.restored = len(changed)
    removed = [_instance(model, data) for data in changes.filter(action="removed").values_list("data", flat=True)]
    model._default_manager.bulk_create(removed, batch_size=500)
    counts.returned = len(removed)
    return counts


def _instance(model, data: dict):
    return model(
        **{
            field.attname: _value(model, field.attname, data.get(field.attname))
            for field in model._meta.concrete_fields
        }
    )
