"""Bulk upserts into the students tables, counting what was added, changed and removed.

PostgreSQL: the rows are COPYed into a temporary table, then one INSERT … ON CONFLICT DO UPDATE
writes only the rows whose values differ (so re-importing the same file touches nothing), and
one DELETE removes stored rows inside the file's scope that the file no longer has — this is
how a corrected file takes back a back-dated absence. Other databases (the SQLite demo) take a
bulk_create/bulk_update path with the same results.

With a journal (every import and replay has one), what each statement did is kept beside it in
imports_importchange, in the same transaction: the ids of added rows, and every changed or
removed row as it was before, so the import can be undone row for row (imports.undo).

Every statement names the district: the temporary table holds no district column, the INSERT
writes %(district_id)s and every DELETE filters on it (districts.tenancy.district_sql).
"""

import dataclasses
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection
from django.utils import timezone

from districts.models import District, School
from districts.tenancy import district_sql
from students import partitions
from students.models import AttendanceRecord, CalendarDay, Enrollment, Guardian, PriorYearSummary, Student

from .models import ImportChange
from .placing import DEFAULT_CALENDAR, Scope

COPY_CHUNK_ROWS = 250_000
ANALYZE_AFTER_ROWS = 1000


@dataclasses.dataclass(frozen=True)
class Table:
    model: type
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    conflict_where: str = ""  # the predicate of a partial unique index
    null_key: str = ""  # a column that is NULL in every row (the district's default calendar)
    touch: str = ""  # an auto_now column to stamp on every write
    # The school a removed row counts under in the removal guard's report.
    school_sql: str = "t.school_id"

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def default(self, column: str):
        return self.model._meta.get_field(column).get_default()


@dataclasses.dataclass
class Counts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    # school id (None: no school) → rows removed there, and the rows the file covered there
    # (stored inside its scope beforehand) for schools where the guard could trip.
    removed_by_school: dict = dataclasses.field(default_factory=dict)
    covered_by_school: dict = dataclasses.field(default_factory=dict)

    def __iadd__(self, other: "Counts") -> "Counts":
        self.added += other.added
        self.changed += other.changed
        self.removed += other.removed
        for mine, theirs in (
            (self.removed_by_school, other.removed_by_school),
            (self.covered_by_school, other.covered_by_school),
        ):
            for school, count in theirs.items():
                mine[school] = mine.get(school, 0) + count
        return self


@dataclasses.dataclass(frozen=True)
class Journal:
    """Where an import keeps what it did (imports.models.ImportChange); covered counts are
    taken for schools losing more than `guard_rows` rows."""

    district_id: int
    run_id: int
    guard_rows: int = 0


# A guardian counts under the school of the student's latest stay.
STUDENT_SCHOOL_SQL = """(SELECT e.school_id FROM students_enrollment e
    WHERE e.district_id = t.district_id AND e.student_id = t.student_id
    ORDER BY e.exit_date IS NULL DESC, e.entry_date DESC LIMIT 1)"""


TABLES = {
    "schools": Table(School, ("sis_id",), ("name", "grade_low", "grade_high")),
    "students": Table(
        Student,
        ("sis_id",),
        (
            "first_name",
            "last_name",
            "birth_date",
            "grade",
            "home_language",
            "econ_disadvantaged",
            "disability",
            "english_learner",
            "race_ethnicity",
            "homeless",
            "foster",
        ),
        touch="updated_at",
    ),  # fmt: skip
    "enrollments": Table(Enrollment, ("student_id", "school_id", "entry_date"), ("grade", "exit_date", "exit_reason")),
    "calendar": Table(
        CalendarDay,
        ("school_id", "date"),
        ("instructional", "minutes", "event"),
        conflict_where="school_id IS NOT NULL",
    ),
    "calendar_default": Table(
        CalendarDay,
        ("date",),
        ("instructional", "minutes", "event"),
        conflict_where="school_id IS NULL",
        null_key="school_id",
    ),
    "guardians": Table(
        Guardian,
        ("student_id", "name"),
        ("relationship", "phone", "email", "language", "preferred_channel"),
        school_sql=STUDENT_SCHOOL_SQL,
    ),
    "prior_year": Table(PriorYearSummary, ("student_id", "school_year"), ("days_enrolled", "days_absent")),
    "attendance": Table(AttendanceRecord, ("student_id", "school_id", "date", "code"), ("category", "minutes_absent")),
}


def load_entity(
    district: District, entity: str, rows: pd.DataFrame, scope: Scope | None, journal: Journal | None = None
) -> Counts:
    """Write one entity's placed rows; the calendar splits into school and default days (a
    calendar file only adds and updates days, so it has no scope)."""
    if entity != "calendar":
        return upsert(district, TABLES[entity], rows, scope, journal)
    default = rows["school_id"].to_numpy() == DEFAULT_CALENDAR
    counts = upsert(district, TABLES["calendar"], rows[~default], None, journal)
    counts += upsert(district, TABLES["calendar_default"], rows[default].drop(columns="school_id"), None, journal)
    return counts


def upsert(
    district: District, table: Table, rows: pd.DataFrame, scope: Scope | None, journal: Journal | None = None
) -> Counts:
    update_columns = [column for column in table.columns if column in rows.columns]
    missing = {column: table.default(column) for column in table.columns if column not in rows.columns}
    rows = rows.assign(**missing)[[*table.keys, *table.columns]]
    # A blank in a column that cannot be NULL (a calendar day's minutes) takes the field's default.
    blanks = {
        column: rows[column].fillna(table.default(column))
        for column in table.columns
        if not table.model._meta.get_field(column).null and rows[column].hasnans
    }
    rows = rows.assign(**blanks) if blanks else rows
    if connection.vendor == "postgresql":
        return _pg_upsert(district, table, rows, update_columns, scope, journal)
    return _orm_upsert(district, table, rows, update_columns, scope, journal)


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_upsert(district, table: Table, rows: pd.DataFrame, update_columns: list[str], scope, journal) -> Counts:
    temp = f"import_{table.db_table}"
    columns = [*table.keys, *table.columns]
    counts = Counts()
    partitioning = partitions.of(table.db_table)
    if partitioning is not None and len(rows) and _all_new(district, table, partitioning):
        return _pg_first_partition(district, table, rows, journal, partitioning)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {', '.join(columns)} FROM {table.db_table} WITH NO DATA"
        )
        _copy_rows(cursor, temp, columns, rows)
        # The district's first rows of this table (a first import): nothing can conflict (the
        # placed rows are unique by key) or be removed, so they are inserted plainly, without
        # the per-row conflict check and its extra write.
        first = not _stored(cursor, district, table)
        if not first:
            cursor.execute(f"ANALYZE {temp}")
        if scope is not None and len(scope) and not first:
            # Removals first: they depend only on what the file has, and counting what stays in
            # the scope right after them gives what the file covered before it was loaded.
            _pg_remove(cursor, district, table, temp, scope, journal, counts)
        if len(rows):
            journaled = journal is not None
            if journaled and update_columns and not first:
                cursor.execute(
                    *district_sql(district, _journal_changed_sql(table, temp, update_columns), _ids(journal))
                )
            into = partitioning.write_target(district.pk) if partitioning is not None else table.db_table
            sql = _insert_sql(table, temp, update_columns, journaled, first=first, into=into)
            cursor.execute(*district_sql(district, sql, _ids(journal)))
            counts.added, counts.changed = (value or 0 for value in cursor.fetchone())
        if counts.added > ANALYZE_AFTER_ROWS:
            # Rows written in this transaction are invisible to the statistics; without fresh
            # ones the planner takes a just-filled table for empty and nests loops over it.
            if partitioning is not None:
                partitioning.analyze(district.pk)  # the district's partition, not all
            else:
                cursor.execute(f"ANALYZE {table.db_table}")
        cursor.execute(f"DROP TABLE {temp}")
    return counts


def _all_new(district, table: Table, partitioning: partitions.ByDistrict) -> bool:
    """Whether the district's rows of a partitioned table can load into a partition of its own:
    the district has no partition yet and no row in the default one."""
    if partitioning.has_partition(district.pk):
        return False
    with connection.cursor() as cursor:
        return not _stored(cursor, district, table)


def _pg_first_partition(
    district, table: Table, rows: pd.DataFrame, journal, partitioning: partitions.ByDistrict
) -> Counts:
    """A district's first rows of a partitioned table (students.partitions): COPY into a bare
    table of its own, keep its range of ids in the journal, build the indexes, attach it (foreign
    keys checked set-based). The placed rows are unique by key and nothing is stored, so there
    is nothing to update or remove, as in the first-rows path of `_pg_upsert`."""
    part = partitioning.create_bare(district.pk)
    first_id = partitioning.reserve_ids(len(rows))
    with connection.cursor() as cursor:
        # The partition's check (district_id = this district) refuses any other district's row.
        _copy_rows(
            cursor, part, [*table.keys, *table.columns], rows, district_id=district.pk, freeze=True, first_id=first_id
        )
        if journal is not None:
            # The partition is new: every row of it is this run's, so the range of its ids is
            # enough for the undo (ImportChange.first_id).
            if first_id is not None:
                last_id = first_id + len(rows) - 1
            else:
                cursor.execute(f"SELECT min(id), max(id) FROM {part}")
                first_id, last_id = cursor.fetchone()
            ImportChange.objects.create(
                district_id=journal.district_id,
                run_id=journal.run_id,
                model=table.label,
                action=ImportChange.Action.ADDED,
                first_id=first_id,
                last_id=last_id,
                row_count=len(rows),
            )
    partitioning.attach(district.pk)
    return Counts(added=len(rows))


def _stored(cursor, district, table: Table) -> bool:
    """Whether the district has any row of the table."""
    cursor.execute(
        *district_sql(district, f"SELECT EXISTS (SELECT 1 FROM {table.db_table} WHERE district_id = %(district_id)s)")
    )
    return cursor.fetchone()[0]


def _ids(journal: Journal | None) -> dict:
    return {"run_id": journal.run_id if journal else None}


def _pg_remove(cursor, district, table: Table, temp: str, scope: Scope, journal, counts: Counts) -> None:
    scope_table = f"import_scope_{table.db_table}"
    cursor.execute(f"DROP TABLE IF EXISTS {scope_table}")
    cursor.execute(
        f"CREATE TEMP TABLE {scope_table} ON COMMIT DROP AS "
        f"SELECT {', '.join(scope.columns)} FROM {table.db_table} WITH NO DATA"
    )
    _copy_rows(cursor, scope_table, list(scope.columns), scope.keys)
    cursor.execute(f"ANALYZE {scope_table}")
    # The anti-join against the temporary table must hash: statistics of a table changed in
    # this transaction can make a nested loop look cheap, and it is quadratic. Scoped to it.
    cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute(*district_sql(district, _delete_sql(table, temp, scope_table, scope, journal), _ids(journal)))
    counts.removed_by_school = dict(cursor.fetchall())
    counts.removed = sum(counts.removed_by_school.values())
    cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")
    watched = [
        school for school, count in counts.removed_by_school.items() if count > (journal.guard_rows if journal else 0)
    ]
    if journal is not None and watched:
        in_scope = " AND ".join(f"t.{column} = s.{column}" for column in scope.columns)
        sql = f"""SELECT school, count(*) FROM (
                      SELECT {table.school_sql} AS school FROM {table.db_table} t JOIN {scope_table} s ON {in_scope}
                      WHERE t.district_id = %(district_id)s) kept
                  GROUP BY school"""
        cursor.execute(*district_sql(district, sql))
        remaining = dict(cursor.fetchall())
        counts.covered_by_school = {
            school: counts.removed_by_school[school] + remaining.get(school, 0) for school in watched
        }
    cursor.execute(f"DROP TABLE {scope_table}")


def _copy_rows(
    cursor,
    temp: str,
    columns: list[str],
    rows: pd.DataFrame,
    district_id: int | None = None,
    freeze: bool = False,
    first_id: int | None = None,
) -> None:
    """COPY in CSV chunks written by Arrow's C++ writer. Every present value is quoted and a
    missing one is not, which is exactly how COPY tells an empty text from NULL. With a
    `district_id`, every row is written with it first (a chunk at a time, not a copy of `rows`);
    with a `first_id`, the rows take consecutive ids from it (reserved: ByDistrict.reserve_ids).
    `freeze`: the table was created in this (sub)transaction, so its rows can be written frozen."""
    listed = ["district_id", *columns] if district_id is not None else list(columns)
    if first_id is not None:
        listed.insert(0, "id")
    statement = f"COPY {temp} ({', '.join(listed)}) FROM STDIN (FORMAT csv{', FREEZE' if freeze else ''})"
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    with cursor.cursor.copy(statement) as copy:
        for start in range(0, len(rows), COPY_CHUNK_ROWS):
            table = pa.Table.from_pandas(rows.iloc[start : start + COPY_CHUNK_ROWS], preserve_index=False)
            if district_id is not None:
                table = table.add_column(0, "district_id", pa.array(np.full(table.num_rows, district_id, np.int64)))
            if first_id is not None:
                ids = np.arange(first_id + start, first_id + start + table.num_rows, dtype=np.int64)
                table = table.add_column(0, "id", pa.array(ids))
            buffer = io.BytesIO()
            pacsv.write_csv(_dates_as_days(table), buffer, options)
            copy.write(buffer.getbuffer())


def _dates_as_days(table: pa.Table) -> pa.Table:
    for position, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(position, field.name, table.column(position).cast(pa.date32()))
        elif pa.types.is_null(field.type):  # a column of only missing values
            table = table.set_column(position, field.name, table.column(position).cast(pa.string()))
    return table


def _insert_sql(
    table: Table,
    temp: str,
    update_columns: list[str],
    journaled: bool = False,
    first: bool = False,
    into: str | None = None,
) -> str:
    columns = [*table.keys, *table.columns]
    insert_columns = ["district_id", *columns]
    selected = ["%(district_id)s", *columns]
    if table.touch:
        insert_columns.append(table.touch)
        selected.append("now()")
    target = f"(district_id, {', '.join(table.keys)})" + (
        f" WHERE {table.conflict_where}" if table.conflict_where else ""
    )
    if update_columns:
        assignments = [f"{column} = EXCLUDED.{column}" for column in update_columns]
        if table.touch:
            assignments.append(f"{table.touch} = now()")
        stored = ", ".join(f"t.{column}" for column in update_columns)
        incoming = ", ".join(f"EXCLUDED.{column}" for column in update_columns)
        action = f"DO UPDATE SET {', '.join(assignments)} WHERE ROW({stored}) IS DISTINCT FROM ROW({incoming})"
    else:
        action = "DO NOTHING"
    # xmax = 0 on a freshly inserted row version; an updated one carries this transaction's id.
    journal = (
        f""", journal AS (
            INSERT INTO imports_importchange (district_id, run_id, model, action, row_ids)
            SELECT %(district_id)s, %(run_id)s, '{table.label}', 'added', to_jsonb(array_agg(id ORDER BY id))
            FROM written WHERE inserted HAVING count(*) > 0
        )"""
        if journaled
        else ""
    )
    conflict = "" if first else f"ON CONFLICT {target} {action}"
    inserted = "true" if first else "(t.xmax = 0)"
    return f"""
        WITH written AS (
            INSERT INTO {into or table.db_table} AS t ({", ".join(insert_columns)})
            SELECT {", ".join(selected)} FROM {temp}
            {conflict}
            RETURNING t.id, {inserted} AS inserted
        ){journal}
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
    """


def _matches(table: Table, temp: str) -> str:
    """The stored row `t` that the file's row `n` would write over."""
    matches = [f"n.{key} = t.{key}" for key in table.keys]
    if table.null_key:
        matches.append(f"t.{table.null_key} IS NULL")
    return " AND ".join(matches)


def _journal_changed_sql(table: Table, temp: str, update_columns: list[str]) -> str:
    """Every stored row the upsert is about to change, as it is now."""
    stored = ", ".join(f"t.{column}" for column in update_columns)
    incoming = ", ".join(f"n.{column}" for column in update_columns)
    return f"""
        INSERT INTO imports_importchange (district_id, run_id, model, action, row_id, data)
        SELECT %(district_id)s, %(run_id)s, '{table.label}', 'changed', t.id, to_jsonb(t)
        FROM {table.db_table} t JOIN {temp} n ON {_matches(table, temp)}
        WHERE t.district_id = %(district_id)s AND ROW({stored}) IS DISTINCT FROM ROW({incoming})
    """


def _delete_sql(table: Table, temp: str, scope_table: str, scope: Scope, journal: Journal | None) -> str:
    """Remove stored rows inside the scope (a key of `scope_table`) that the file does not have,
    keeping each in the journal; answers (school, rows removed) pairs."""
    in_scope = " AND ".join(f"t.{column} = s.{column}" for column in scope.columns)
    kept = (
        f""", kept AS (
            INSERT INTO imports_importchange (district_id, run_id, model, action, row_id, data)
            SELECT %(district_id)s, %(run_id)s, '{table.label}', 'removed', id, row FROM gone
        )"""
        if journal is not None
        else ""
    )
    return f"""
        WITH gone AS (
            DELETE FROM {table.db_table} t USING {scope_table} s
            WHERE t.district_id = %(district_id)s AND {in_scope}
              AND NOT EXISTS (SELECT 1 FROM {temp} n WHERE {_matches(table, temp)})
            RETURNING t.id, to_jsonb(t) AS row, {table.school_sql} AS school
        ){kept}
        SELECT school, count(*) FROM gone GROUP BY school
    """


# --- other databases (the SQLite demo) ---------------------------------------------------


def _orm_upsert(district, table: Table, rows: pd.DataFrame, update_columns: list[str], scope, journal) -> Counts:
    model, keys = table.model, list(table.keys)
    stored = model.objects.all()
    if table.null_key:
        stored = stored.filter(**{f"{table.null_key}__isnull": True})
    elif table.conflict_where:
        stored = stored.filter(**{f"{table.keys[0]}__isnull": False})
    if scope is not None:
        stored = _in_scope(stored, scope)
    elif len(rows) < 10_000:
        stored = stored.filter(**{f"{keys[0]}__in": sorted(set(_python(rows[keys[0]])))})
    existing = {tuple(row[: len(keys)]): row for row in stored.values_list(*keys, "pk", *update_columns)}
    records = _records(rows)
    counts, new, changed, seen = Counts(), [], [], set()
    for record in records:
        key = tuple(record[column] for column in keys)
        seen.add(key)
        current = existing.get(key)
        if current is None:
            new.append(model(district=district, **record))
        elif tuple(current[len(keys) + 1 :]) != tuple(record[column] for column in update_columns):
            instance = model(pk=current[len(keys)], district=district, **record)
            if table.touch:
                setattr(instance, table.touch, timezone.now())  # bulk_update skips auto_now
            changed.append(instance)
    if scope is not None:
        gone = [row[len(keys)] for key, row in existing.items() if key not in seen]
        _orm_remove(table, gone, scope, journal, counts)
    if journal is not None and changed and update_columns:
        _keep(journal, table, ImportChange.Action.CHANGED, [instance.pk for instance in changed])
    model.objects.bulk_create(new, batch_size=2000)
    if changed and update_columns:
        model.objects.bulk_update(changed, [*update_columns, *([table.touch] if table.touch else [])], batch_size=2000)
    if journal is not None and new:
        ImportChange.objects.create(
            district_id=journal.district_id,
            run_id=journal.run_id,
            model=table.label,
            action=ImportChange.Action.ADDED,
            row_ids=sorted(instance.pk for instance in new),
        )
    counts.added, counts.changed = len(new), len(changed)
    return counts


def _orm_remove(table: Table, gone: list[int], scope: Scope, journal, counts: Counts) -> None:
    schools = _schools_of(table, gone)
    if journal is not None:
        _keep(journal, table, ImportChange.Action.REMOVED, gone)
    for start in range(0, len(gone), 500):
        table.model.objects.filter(pk__in=gone[start : start + 500]).delete()
    counts.removed = len(gone)
    for school in schools.values():
        counts.removed_by_school[school] = counts.removed_by_school.get(school, 0) + 1
    if journal is not None:
        # Rows still in scope at a school after the removals: the file has them.
        watched = {school for school, count in counts.removed_by_school.items() if count > journal.guard_rows}
        remaining = _schools_of(table, None, stored_in=_in_scope(table.model.objects.all(), scope)) if watched else {}
        for school in watched:
            kept = sum(1 for value in remaining.values() if value == school)
            counts.covered_by_school[school] = counts.removed_by_school[school] + kept


def _schools_of(table: Table, pks: list[int] | None, *, stored_in=None) -> dict[int, int | None]:
    """pk → the school a row counts under in the guard's report."""
    rows = stored_in if stored_in is not None else table.model.objects.filter(pk__in=pks)
    if "school_id" in table.keys:
        return dict(rows.values_list("pk", "school_id"))
    latest: dict[int, tuple] = {}  # the student's open stay, else the one that started last
    for student_id, school_id, entry, exit_date in Enrollment.objects.values_list(
        "student_id", "school_id", "entry_date", "exit_date"
    ):
        rank = (exit_date is None, entry)
        if student_id not in latest or rank > latest[student_id][0]:
            latest[student_id] = (rank, school_id)
    return {pk: latest.get(student_id, (None, None))[1] for pk, student_id in rows.values_list("pk", "student_id")}


def _keep(journal: Journal, table: Table, action: str, pks: list[int]) -> None:
    """Journal rows as they are now, before they are changed or removed."""
    rows = table.model.objects.filter(pk__in=pks).values()
    ImportChange.objects.bulk_create(
        [
            ImportChange(
                district_id=journal.district_id,
                run_id=journal.run_id,
                model=table.label,
                action=action,
                row_id=row["id"],
                data=jsonable(row),
            )
            for row in rows
        ],
        batch_size=2000,
    )


def jsonable(row: dict) -> dict:
    """A row's values as JSON holds them (dates and times as ISO text), as to_jsonb writes them."""
    return {column: value.isoformat() if hasattr(value, "isoformat") else value for column, value in row.items()}


def _in_scope(stored, scope: Scope) -> list:
    """Stored rows whose scope columns match a key of the scope (the demo's sizes: in Python)."""
    first = scope.columns[0]
    keys = set(zip(*(_python(scope.keys[column]) for column in scope.columns)))
    candidates = stored.filter(**{f"{first}__in": sorted({key[0] for key in keys})})
    wanted = [pk for pk, *values in candidates.values_list("pk", *scope.columns) if tuple(values) in keys]
    return stored.filter(pk__in=wanted)


def _records(rows: pd.DataFrame) -> list[dict]:
    columns = {column: _python(rows[column]) for column in rows.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if len(rows) else []


def _python(series: pd.Series) -> list:
    """Plain Python values, as the ORM returns them, so stored and incoming rows compare."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(value) else value.date() for value in series]
    if pd.api.types.is_bool_dtype(series):
        return [bool(value) for value in series.to_numpy()]
    if pd.api.types.is_integer_dtype(series):
        return [None if pd.isna(value) else int(value) for value in series]
    return [
        None if value is None or (isinstance(value, float) and np.isnan(value)) else value for value in series.tolist()
    ]
