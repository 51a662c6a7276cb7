"""Bulk inserts of engine results: COPY on PostgreSQL, bulk_create elsewhere.

At 200,000 students a run writes 200,000 metrics rows, a weekly snapshot and school rows;
COPY does that in seconds where per-object saves would take minutes.
"""

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

from districts.models import District

try:
    from psycopg import sql as pg_sql
except ImportError:  # pragma: no cover - SQLite-only installs
    pg_sql = None


def insert_frame(district: District, model, frame: pd.DataFrame, *, table: str | None = None) -> int:
    """Insert the frame's rows into the model's table (or `table`, one of its run partitions);
    columns are the model's column names. Every row must belong to `district` — checked,
    because COPY bypasses the scope."""
    if frame.empty:
        return 0
    if "district_id" not in frame or not (frame["district_id"] == district.pk).all():
        raise ValueError(f"Refusing to write {model.__name__} rows of another district.")
    columns = list(frame.columns)
    if connection.vendor == "postgresql":
        _copy(table or model._meta.db_table, columns, _json_columns(frame))
    else:
        _insert_many(model._meta.db_table, columns, _json_columns(frame))
    return len(frame)


def insert_frame_into(table: str, frame: pd.DataFrame) -> int:
    """Rows into a table of the run's own (no model, so no district check to make: the caller
    built the frame from one district's result)."""
    if frame.empty:
        return 0
    if connection.vendor == "postgresql":
        _copy(table, list(frame.columns), frame)
    else:
        _insert_many(table, list(frame.columns), frame)
    return len(frame)


def update_rows(district: District, model, frame: pd.DataFrame) -> int:
    """Set the frame's columns on the rows whose `id` it names, in one statement per table on
    PostgreSQL (COPY into a temporary table, then UPDATE … FROM) — per-row statements cost a
    round trip each, which at 100,000 flags is most of a nightly run."""
    if frame.empty:
        return 0
    table, columns = model._meta.db_table, [c for c in frame.columns if c != "id"]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{column} = %s" for column in columns)
        statement = f'UPDATE "{table}" SET {assignments} WHERE id = %s AND district_id = %s'
        rows = frame[columns + ["id"]].astype(object).itertuples(index=False, name=None)
        with connection.cursor() as cursor:
            cursor.executemany(statement, [(*map(_plain, row), district.pk) for row in rows])
        return len(frame)
    selected = pg_sql.SQL(", ").join(map(pg_sql.Identifier, ["id", *columns]))
    with connection.connection.cursor() as cursor:
        cursor.execute(
            pg_sql.SQL("CREATE TEMP TABLE row_changes AS SELECT {} FROM {} WITH NO DATA").format(
                selected, pg_sql.Identifier(table)
            )
        )
    _copy("row_changes", ["id", *columns], frame[["id", *columns]])
    assignments = pg_sql.SQL(", ").join(
        pg_sql.SQL("{} = changes.{}").format(pg_sql.Identifier(c), pg_sql.Identifier(c)) for c in columns
    )
    statement = pg_sql.SQL(
        "UPDATE {} AS target SET {} FROM row_changes AS changes WHERE target.id = changes.id AND target.district_id = %s"
    ).format(pg_sql.Identifier(table), assignments)
    with connection.connection.cursor() as cursor:
        cursor.execute(statement, [district.pk])
        cursor.execute("DROP TABLE row_changes")
    return len(frame)


def _json_columns(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object and out[column].map(lambda v: isinstance(v, (list, dict, tuple))).any():
            out[column] = out[column].map(lambda v: json.dumps(list(v) if isinstance(v, tuple) else v))
    return out


def _insert_many(table: str, columns: list[str], frame: pd.DataFrame) -> None:
    placeholders = ", ".join(["%s"] * len(columns))
    statement = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})'
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    with connection.cursor() as cursor:
        cursor.executemany(statement, [tuple(_plain(value) for value in row) for row in rows])


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def json_each(values: pd.Series) -> pd.Series:
    """Each value (a tuple or other hashable) as JSON text, each distinct value encoded once: a
    run's rule lists take a handful of distinct values over 50,000 students of a chunk, and
    json.dumps per row was 0.2 s of each chunk's write."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    texts = np.array(
        [json.dumps(list(value) if isinstance(value, tuple) else value) for value in distinct], dtype=object
    )
    return pd.Series(texts[codes], index=values.index)


def json_lines(frame: pd.DataFrame) -> list[str]:
    """Each row of the frame as a JSON object string, without a Python loop over rows."""
    return frame.to_json(orient="records", lines=True, double_precision=6).splitlines()


def _copy(table: str, columns: list[str], frame: pd.DataFrame) -> None:
    # pyarrow writes CSV several times faster than pandas; an unquoted empty field is NULL.
    buffer = io.BytesIO()
    pa_csv.write_csv(
        pa.Table.from_pandas(frame, preserve_index=False), buffer, pa_csv.WriteOptions(include_header=False)
    )
    statement = pg_sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        pg_sql.Identifier(table), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns))
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())
