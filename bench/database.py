"""The benchmarks' own PostgreSQL database, created on first use so that a fresh machine needs
nothing but the DATABASE_URL it is told to set."""

import psycopg
from django.db import connection
from psycopg import sql


def ensure_database() -> None:
    """CREATE DATABASE through the server's `postgres` database when the named one is missing."""
    params = connection.get_connection_params()
    name = params.pop("dbname")
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
