"""PostgreSQL: each run's result rows in a table of their own, attached as a partition.

Why: COPYing 400,000 result rows into the shared tables fires four foreign-key triggers per row
at commit (about 20 s at 200,000 students on the 2-core machine, most of a night's run), and
swapping the previous run out was a DELETE of as many rows. Instead a run COPYs into a fresh,
bare table, builds its indexes and validates its foreign keys set-based (one anti-join each),
then attaches it to the parent, partitioned by run id: readers never see it before the swap.
Removing a run's rows is then a DROP TABLE.

The parent keeps a DEFAULT partition: rows inserted through the ORM (fixtures, older data from
before the parent was partitioned) land there and are deleted row by row as before.
SQLite (the embedded default) keeps plain tables; the callers fall back to INSERT and DELETE.
"""

from django.db import connection

from districts.pg_tables import index_columns, is_partitioned, table_definitions

try:
    from psycopg import sql as pg_sql
except ImportError:  # pragma: no cover - SQLite-only installs never partition
    pg_sql = None

PARTITIONED_TABLES = ("tiers_studentmetrics", "tiers_studentschoolmetrics")


def partitioned(table: str) -> bool:
    return is_partitioned(table)


def run_partition(table: str, run_id: int) -> str:
    return f"{table}_run{int(run_id)}"


def create_run_partition(table: str, run_id: int) -> str:
    """A bare table shaped like the parent (defaults, checks, the run id fixed), for COPY."""
    part = run_partition(table, run_id)
    with connection.connection.cursor() as cursor:
        ident, parent = pg_sql.Identifier(part), pg_sql.Identifier(table)
        # A leftover of a rolled-back database (run ids restart after a flush) must not block the run.
        cursor.execute(pg_sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        cursor.execute(
            pg_sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(ident, parent)
        )
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            pg_sql.SQL("ALTER TABLE {} ALTER COLUMN id SET DEFAULT nextval({}::regclass)").format(
                ident, pg_sql.Literal(sequence)
            )
        )
        cursor.execute(
            pg_sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (run_id = {})").format(
                ident, pg_sql.Identifier(f"{part}_run"), pg_sql.Literal(int(run_id))
            )
        )
    return part


def attach_run_partition(table: str, run_id: int) -> None:
    """Index the filled table and check its foreign keys set-based, then attach it: the ATTACH
    itself only adopts what is built (and scans the small default partition), so the parent is
    locked for milliseconds, not for the index builds.

    ANALYZE leaves out the JSON columns (analyze_without_json)."""
    part = run_partition(table, run_id)
    with connection.connection.cursor() as cursor:
        constraints, indexes = table_definitions(cursor, table)
        ident = pg_sql.Identifier(part)
        for _name, definition in constraints:
            cursor.execute(pg_sql.SQL("ALTER TABLE {} ADD {}").format(ident, pg_sql.SQL(definition)))
        for _name, definition in indexes:
            cursor.execute(pg_sql.SQL("CREATE INDEX ON {} {}").format(ident, pg_sql.SQL(index_columns(definition))))
        _analyze_without_json(cursor, part)
        cursor.execute(
            pg_sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                pg_sql.Identifier(table), ident, pg_sql.Literal(int(run_id))
            )
        )


def analyze_without_json(table: str) -> None:
    """Planner statistics for every column of `table` but its JSON ones: no query filters, joins
    or sorts on a run's rules or signals or on a flag's why, and their statistics were half of
    each ANALYZE (a run's metrics table 0.5 of 1.0 s, tiers_flag 0.3 of 0.7 s at 200,000 students)."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        _analyze_without_json(cursor, table)


def _analyze_without_json(cursor, table: str) -> None:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
        "AND NOT attisdropped AND atttypid <> 'jsonb'::regtype ORDER BY attnum",
        [table],
    )
    columns = pg_sql.SQL(", ").join(pg_sql.Identifier(row[0]) for row in cursor.fetchall())
    cursor.execute(pg_sql.SQL("ANALYZE {} ({})").format(pg_sql.Identifier(table), columns))


def drop_run_partitions(table: str, run_ids) -> None:
    """Remove the runs' own tables (a DROP, whatever their size)."""
    with connection.connection.cursor() as cursor:
        for run_id in run_ids:
            cursor.execute(
                pg_sql.SQL("DROP TABLE IF EXISTS {}").format(pg_sql.Identifier(run_partition(table, run_id)))
            )


def rebuild(schema_editor, table: str, *, partition: bool) -> None:
    """Turn `table` into a parent partitioned by run id with a default partition holding its
    rows (or back): same columns, constraint and index names, identity sequence continued."""
    new, default = f"{table}__new", f"{table}_default"
    with schema_editor.connection.cursor() as cursor:
        constraints, indexes = table_definitions(cursor, table)
        cursor.execute(
            pg_sql.SQL("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = to_regclass(%s)"), [table]
        )
        children = [row[0] for row in cursor.fetchall()]
        suffix = pg_sql.SQL(" PARTITION BY LIST (run_id)" if partition else "")
        cursor.execute(
            pg_sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){}").format(
                pg_sql.Identifier(new), pg_sql.Identifier(table), suffix
            )
        )
        cursor.execute(pg_sql.SQL("ALTER TABLE {} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY").format(
            pg_sql.Identifier(new)
        ))  # fmt: skip
        if partition:
            cursor.execute(
                pg_sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(
                    pg_sql.Identifier(default), pg_sql.Identifier(new)
                )
            )
        cursor.execute(
            pg_sql.SQL("INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM {}").format(
                pg_sql.Identifier(new), pg_sql.Identifier(table)
            )
        )
        cursor.execute(pg_sql.SQL("DROP TABLE {} CASCADE").format(pg_sql.Identifier(table)))
        for child in children:
            if child not in (table, default):
                cursor.execute(pg_sql.SQL("DROP TABLE IF EXISTS {}").format(pg_sql.Identifier(child)))
        cursor.execute(
            pg_sql.SQL("ALTER TABLE {} RENAME TO {}").format(pg_sql.Identifier(new), pg_sql.Identifier(table))
        )
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            pg_sql.SQL("ALTER SEQUENCE {} RENAME TO {}").format(
                pg_sql.SQL(sequence), pg_sql.Identifier(f"{table}_id_seq")
            )
        )
        cursor.execute(
            pg_sql.SQL("SELECT setval({}, coalesce(max(id), 0) + 1, false) FROM {}").format(
                pg_sql.Literal(f"{table}_id_seq"), pg_sql.Identifier(table)
            )
        )
        for name, definition in constraints:
            if definition.startswith("PRIMARY KEY"):
                definition = "PRIMARY KEY (id, run_id)" if partition else "PRIMARY KEY (id)"
            cursor.execute(
                pg_sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    pg_sql.Identifier(table), pg_sql.Identifier(name), pg_sql.SQL(definition)
                )
            )
        for _name, definition in indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON "))
