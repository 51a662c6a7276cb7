"""PostgreSQL: a district's attendance, enrollments, calendar days and prior years each in a
partition of its own, so a district's first import loads them set-based.

Why: a district's first import COPYed about 1.5M attendance rows (100,000 students) into the
shared table, and every row fired three deferred foreign-key triggers at COMMIT (district,
student, school) and updated every index on the way in: most of a first import's time. The same
held, at a third the rows, for enrollments (three keys a row), prior years and calendar days (two):
about 1.1M of the 1.9M triggers left at COMMIT of a 200,000-student first import once attendance
had its partitions (9.5 s of COMMIT, bench_import.py, 2026-12-01). Instead, each of these tables is
partitioned by LIST (district_id). A district whose rows of a table are all new (no stored row and
no partition yet) gets a bare table of its own: the rows are COPYed into it with no index or
trigger, its indexes are built once, then it is ATTACHed as the district's partition, and
PostgreSQL checks each foreign key with one anti-join over the table (RI_Initial_Check: a hash
anti join per key), not one lookup per row.

Only tables that no foreign key refers to can be partitioned this way: a key referring to a
partitioned table must name the partition key too (district_id, id), which a Django foreign key
cannot. Students, schools and guardians are referred to, so they stay shared tables and keep
their per-row checks.

Each table's primary key is (district_id, id): a key of a partitioned table must hold its
partition key. `id` stays unique (one identity sequence for every partition) and stays the
Django pk; the import journal and undo keep ids in imports_importchange, always beside the
district. A DEFAULT partition takes rows of districts without a partition of their own (rows
written through the ORM: the demo's seeding, tests); a district with rows there loads through
the parent as before.

Locks: an ATTACH holds SHARE UPDATE EXCLUSIVE on the parent (reads and writes of every other
district go on; a second district's ATTACH waits for this import's commit), ACCESS EXCLUSIVE on
the DEFAULT partition (it is scanned for the district's rows) and, while the foreign keys are
added, SHARE ROW EXCLUSIVE on the referenced tables (districts, schools, students) until the
import commits: writes to those tables from other transactions wait for it. The first ATTACH
of an import is its enrollments' (the third entity loaded), so on a district's first import those
writes wait for the rest of it (at 200,000 students, about 20 s); reads and writes of every other
table go on. Two first imports of different districts running at once can deadlock there;
PostgreSQL aborts one and the import task retries it (a database error).

SQLite (the embedded default) keeps plain tables; `partitioned()` is False there.
"""

import dataclasses

from django.db import connection

from districts.pg_tables import index_columns, is_partitioned, table_definitions

try:
    from psycopg import sql as pg_sql
except ImportError:  # pragma: no cover - SQLite-only installs never partition
    pg_sql = None


@dataclasses.dataclass(frozen=True)
class ByDistrict:
    """One table partitioned by district: its districts' own partitions and its DEFAULT one."""

    table: str

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def partitioned(self) -> bool:
        return is_partitioned(self.table)

    def district_partition(self, district_id: int) -> str:
        return f"{self.table}_d{int(district_id)}"

    def has_partition(self, district_id: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [self.district_partition(district_id)])
            return cursor.fetchone()[0]

    def create_bare(self, district_id: int) -> str:
        """The district's own table shaped like the parent (defaults, NOT NULL and checks, the
        parent's id sequence, a check that every row is the district's), with no index, key or
        trigger: the rows are COPYed straight into it. Raises if the district already has one."""
        part = self.district_partition(district_id)
        ident, parent = pg_sql.Identifier(part), pg_sql.Identifier(self.table)
        with connection.cursor() as cursor:
            _execute(
                cursor,
                pg_sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(ident, parent),
            )
            self._default_id(cursor, part)
            # Also lets the ATTACH skip scanning the table for rows outside the partition's bound.
            _execute(
                cursor,
                pg_sql.SQL(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK (district_id IS NOT NULL AND district_id = {})"
                ).format(ident, pg_sql.Identifier(f"{part}_district"), pg_sql.Literal(int(district_id))),
            )
        return part

    def reserve_ids(self, count: int, *, wait: str = "100ms") -> int | None:
        """The first of `count` consecutive ids taken from the table's identity sequence at once,
        so that a first import's COPY writes its rows' ids itself: a sequence call per row took
        about 1.2 s of the COPY of 3M attendance rows. None when the block could not be had at
        once: the rows then take their ids one by one, as before.

        ALTER SEQUENCE waits for every transaction that took an id from the sequence to end, and
        every nextval waits for it. So it runs on a connection of its own that commits at once
        (not in the import's transaction, which would hold other districts' writes for the whole
        import) and gives up after `wait` (another transaction still writing rows of the table,
        the import's own included, holds it). Ids of a block whose import then rolls back are
        lost, as ids taken one by one would be."""
        from psycopg import errors

        own = connection.get_new_connection(connection.get_connection_params())
        try:
            with own.cursor() as cursor:
                cursor.execute(pg_sql.SQL("SET lock_timeout = {}").format(pg_sql.Literal(wait)))
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.table])
                name = cursor.fetchone()[0]
                sequence = pg_sql.SQL(name)  # the catalog's own, quoted where it needs to be
                try:
                    cursor.execute(
                        pg_sql.SQL("ALTER SEQUENCE {} INCREMENT BY {}").format(sequence, pg_sql.Literal(int(count)))
                    )
                except errors.LockNotAvailable:
                    own.rollback()
                    return None
                cursor.execute("SELECT nextval(%s)", [name])
                last = cursor.fetchone()[0]
                cursor.execute(pg_sql.SQL("ALTER SEQUENCE {} INCREMENT BY 1").format(sequence))
            own.commit()
        finally:
            own.close()
        return last - int(count) + 1

    def attach(self, district_id: int) -> None:
        """Build the filled table's keys and indexes as the parent has them, then attach it: the
        ATTACH adds the parent's foreign keys and validates them set-based (one anti-join each)."""
        part = self.district_partition(district_id)
        ident = pg_sql.Identifier(part)
        with connection.cursor() as cursor:
            constraints, indexes = table_definitions(cursor, self.table, kinds="pufc")
            # Each index's sort in memory, not spilled to disk in 64 MB runs (1.5M rows: ≈ 100 MB).
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in constraints:
                if definition.startswith(("PRIMARY KEY", "UNIQUE")):
                    _execute(cursor, pg_sql.SQL("ALTER TABLE {} ADD {}").format(ident, pg_sql.SQL(definition)))
            for _name, definition in indexes:
                # A unique index with a condition (a calendar's school and default days) stays unique.
                kind = "CREATE UNIQUE INDEX" if definition.startswith("CREATE UNIQUE ") else "CREATE INDEX"
                _execute(cursor, pg_sql.SQL(kind + " ON {} {}").format(ident, pg_sql.SQL(index_columns(definition))))
            cursor.execute("SET LOCAL maintenance_work_mem TO DEFAULT")
            _execute(cursor, pg_sql.SQL("ANALYZE {}").format(ident))
            _execute(
                cursor,
                pg_sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                    pg_sql.Identifier(self.table), ident, pg_sql.Literal(int(district_id))
                ),
            )

    def drop_if_empty(self, district_id: int, *, wait: str = "1s") -> bool:
        """Drop the district's partition when it holds no row (an undone first import), so that
        its next import is a first one again, set-based. Dropping a partition locks the whole
        parent (ACCESS EXCLUSIVE) until the transaction ends, so it waits at most `wait` for the
        lock and otherwise leaves the empty partition (the next import then writes into it row by
        row). Answers whether it dropped it."""
        from django.db import OperationalError, transaction

        if not self.partitioned() or not self.has_partition(district_id):
            return False
        part = pg_sql.Identifier(self.district_partition(district_id))
        with connection.cursor() as cursor:
            _execute(cursor, pg_sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(part))
            if cursor.fetchone()[0]:
                return False
            try:
                with transaction.atomic():
                    _execute(cursor, "SET LOCAL lock_timeout = %s", [wait])
                    _execute(cursor, pg_sql.SQL("DROP TABLE {}").format(part))
            except OperationalError:  # the lock was not free in time; the savepoint undid the drop
                return False
            finally:
                _execute(cursor, "SET LOCAL lock_timeout TO DEFAULT")
        return True

    def analyze(self, district_id: int) -> None:
        """Fresh statistics for the district's rows: its own partition (ANALYZE of the parent
        would sample every district's partition), or the default one."""
        part = self.district_partition(district_id) if self.has_partition(district_id) else self.default
        with connection.cursor() as cursor:
            _execute(cursor, pg_sql.SQL("ANALYZE {}").format(pg_sql.Identifier(part)))

    def write_target(self, district_id: int) -> str:
        """Where an INSERT … ON CONFLICT writes the district's rows: its own partition, else the
        default one (into a partitioned parent it cannot return xmax, which tells an added row
        from a changed one)."""
        return self.district_partition(district_id) if self.has_partition(district_id) else self.default

    def _default_id(self, cursor, part: str) -> None:
        """Rows written into a partition itself (not through the parent) take ids from the
        parent's identity sequence: PostgreSQL 15 applies the identity only to inserts through
        the parent."""
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.table])
        sequence = cursor.fetchone()[0]
        _execute(
            cursor,
            pg_sql.SQL("ALTER TABLE {} ALTER COLUMN id SET DEFAULT nextval({}::regclass)").format(
                pg_sql.Identifier(part), pg_sql.Literal(sequence)
            ),
        )

    # --- the migrations -------------------------------------------------------------------

    def rebuild(self, schema_editor, *, partition: bool) -> None:
        """Turn the table into a parent partitioned by district, each district holding rows
        getting its own partition and an empty DEFAULT one (or back into one plain table): same
        columns in the same order, constraint and index names, ids and identity sequence."""
        table, new = self.table, f"{self.table}__new"
        q = pg_sql.Identifier
        with schema_editor.connection.cursor() as cursor:
            constraints, indexes = table_definitions(cursor, table, kinds="pufc")
            cursor.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = to_regclass(%s)", [table]
            )
            children = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT DISTINCT district_id FROM {table} ORDER BY 1")
            districts = [row[0] for row in cursor.fetchall()]
            suffix = pg_sql.SQL(" PARTITION BY LIST (district_id)" if partition else "")
            cursor.execute(
                pg_sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS){}").format(q(new), q(table), suffix)
            )
            cursor.execute(
                pg_sql.SQL("ALTER TABLE {} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY").format(q(new))
            )
            if partition:
                cursor.execute(
                    pg_sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(q(f"{new}_default"), q(new))
                )
                for district_id in districts:
                    cursor.execute(
                        pg_sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES IN ({})").format(
                            q(f"{new}_d{int(district_id)}"), q(new), pg_sql.Literal(int(district_id))
                        )
                    )
            cursor.execute(
                pg_sql.SQL("INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM {} ORDER BY district_id, id").format(
                    q(new), q(table)
                )
            )
            # No CASCADE: nothing may refer to these rows (a foreign key into the table stops here).
            cursor.execute(pg_sql.SQL("DROP TABLE {}").format(q(table)))
            for child in children:
                cursor.execute(pg_sql.SQL("DROP TABLE IF EXISTS {}").format(pg_sql.SQL(child)))
            cursor.execute(pg_sql.SQL("ALTER TABLE {} RENAME TO {}").format(q(new), q(table)))
            if partition:
                cursor.execute(pg_sql.SQL("ALTER TABLE {} RENAME TO {}").format(q(f"{new}_default"), q(self.default)))
                for district_id in districts:
                    cursor.execute(
                        pg_sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                            q(f"{new}_d{int(district_id)}"), q(self.district_partition(district_id))
                        )
                    )
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                pg_sql.SQL("ALTER SEQUENCE {} RENAME TO {}").format(pg_sql.SQL(sequence), q(f"{table}_id_seq"))
            )
            cursor.execute(
                pg_sql.SQL("SELECT setval({}, coalesce(max(id), 0) + 1, false) FROM {}").format(
                    pg_sql.Literal(f"{table}_id_seq"), q(table)
                )
            )
            for name, definition in constraints:
                if definition.startswith("PRIMARY KEY"):
                    definition = "PRIMARY KEY (district_id, id)" if partition else "PRIMARY KEY (id)"
                cursor.execute(
                    pg_sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(q(table), q(name), pg_sql.SQL(definition))
                )
            for _name, definition in indexes:
                cursor.execute(definition.replace(" ON ONLY ", " ON "))
            if partition:
                for part in [self.default, *(self.district_partition(district_id) for district_id in districts)]:
                    self._default_id(cursor, part)


ATTENDANCE = ByDistrict("students_attendancerecord")
ENROLLMENTS = ByDistrict("students_enrollment")
CALENDAR = ByDistrict("students_calendarday")
PRIOR_YEARS = ByDistrict("students_prioryearsummary")
ALL = (ATTENDANCE, ENROLLMENTS, CALENDAR, PRIOR_YEARS)


def of(table: str) -> ByDistrict | None:
    """The partitioning of a table partitioned by district on this database, None otherwise."""
    found = next((each for each in ALL if each.table == table), None)
    return found if found is not None and found.partitioned() else None


def _execute(cursor, statement, params=None) -> None:
    """Through Django's cursor, so a database error (a foreign key violated, a deadlock) is
    Django's and the import task's retry sees it."""
    if not isinstance(statement, str):
        statement = statement.as_string(connection.connection)
    cursor.execute(statement, params)
