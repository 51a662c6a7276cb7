"""How a PostgreSQL table is shaped, read from the catalog: for the project's partitioned tables.

Attendance is partitioned by district (students.partitions) and a run's results by run
(tiers.partitions). Both fill a bare table, give it the parent's keys and indexes, then attach
it, and both turn a plain table into a partitioned one in a migration: they must read the
parent's shape the same way, so they read it here.
"""

from django.db import connection


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def table_definitions(cursor, table: str, *, kinds: str = "puf") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's own constraints of `kinds` (p primary key, u unique, f foreign key, c check),
    as (name, definition), and its other indexes, as (name, CREATE INDEX statement)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype::text = ANY(%s) AND conislocal "
        "ORDER BY contype DESC, conname",
        [table, list(kinds)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    names = {name for name, _ in constraints}
    indexes = [(name, definition) for name, definition in cursor.fetchall() if name not in names]
    return constraints, indexes


def index_columns(definition: str) -> str:
    """`CREATE INDEX name ON [ONLY] table USING btree (a, b)` -> `USING btree (a, b)`."""
    return definition[definition.index(" USING ") :]
