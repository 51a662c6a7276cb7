"""The few ways into district data that a ScopedManager cannot guard on its own.

Raw SQL, pandas reads, cache keys and stored files do not pass through a scoped queryset, so
each goes through a helper here that names the district explicitly. `scopes_disabled()` is
used only in the district resolver, the nightly fan-out, data migrations and the superuser
admin; grep for it.
"""

import io
from contextlib import contextmanager
from pathlib import PurePosixPath

import pandas as pd
from django.db import connection
from django_scopes import get_scope, scope

from .models import District

try:  # PostgreSQL's client; absent in an SQLite-only install
    from psycopg import ClientCursor
except ImportError:  # pragma: no cover
    ClientCursor = None


@contextmanager
def district_scope(district: District):
    # django-scopes treats a None value as "no filter": that would show every district.
    if not isinstance(district, District) or district.pk is None:
        raise ValueError("A district scope needs a saved district.")
    with scope(district=district):
        yield


def current_district() -> District | None:
    return get_scope().get("district")


def district_cache_key(district: District | int, *parts: object) -> str:
    district_id = district if isinstance(district, int) else district.pk
    return ":".join(["d", str(district_id), *map(str, parts)])


def district_storage_path(district: District | int, *parts: str) -> str:
    """A storage path under the district's own folder; refuses parts that would climb out."""
    district_id = district if isinstance(district, int) else district.pk
    for part in parts:
        if not part or ".." in PurePosixPath(part).parts or part.startswith("/"):
            raise ValueError(f"Unsafe storage path part: {part!r}")
    return str(PurePosixPath("districts", str(district_id), *parts))


def district_sql(district: District | int, sql: str, params: dict | None = None) -> tuple[str, dict]:
    """Bind a raw query to one district. The query must filter on %(district_id)s itself."""
    if "%(district_id)s" not in sql:
        raise ValueError("District-owned raw SQL must filter on %(district_id)s.")
    district_id = district if isinstance(district, int) else district.pk
    return sql, {**(params or {}), "district_id": district_id}


def district_fetchall(district: District | int, sql: str, params: dict | None = None) -> list[tuple]:
    query, bound = district_sql(district, sql, params)
    with connection.cursor() as cursor:
        cursor.execute(query, bound)
        return cursor.fetchall()


def district_frame(
    district: District | int, sql: str, params: dict | None = None, *, columns: list[str], text: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A district-bound query read straight into a DataFrame.

    On PostgreSQL the rows stream through COPY, about ten times faster than fetching tuples
    at millions of rows; elsewhere they are fetched normally. Columns named in `text` (never
    NULL) are read as the stored text, as the ORM gives it: an id "00123" or "NA" stays itself
    instead of becoming the number 123 or a missing value.
    """
    query, bound = district_sql(district, sql, params)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(query, bound)
            return pd.DataFrame(cursor.fetchall(), columns=columns)
    connection.ensure_connection()
    with ClientCursor(connection.connection) as client:
        literal = client.mogrify(query, bound)
        buffer = io.BytesIO()
        with client.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: [] for name in columns})
    buffer.seek(0)
    if not text:
        return pd.read_csv(buffer, header=None, names=columns)
    return pd.read_csv(
        buffer,
        header=None,
        names=columns,
        dtype={name: object for name in text},
        keep_default_na=False,
        na_values={name: [""] for name in columns if name not in text},
    )
