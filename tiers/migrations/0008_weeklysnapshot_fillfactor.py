"""Room on each page of tiers_weeklysnapshot for a second version of every row (PostgreSQL).

Every night after a week's first updates the week's rows in place (one row per student,
200,000 at 200,000 students: tiers.services.SNAPSHOT_MERGE_SQL). No index covers the columns
that change, so with free room on the row's own page PostgreSQL writes the new version there as
a heap-only tuple (HOT): no entry in any of the table's four indexes, and the previous night's
version is pruned in place. At the default fillfactor (100) the pages are full and each of the
200,000 updates also inserts into every index: the update took 4.0–4.3 s with 1.41M WAL records,
1.6–2.3 s with 0.41M at fillfactor 50 (the same rows, bench/README.md).
The price is disk: a week's rows take twice the pages (about 45 MB instead of 22 MB per
200,000 students). Applies to pages written from now on (each new week's rows); existing weeks
stay as they are (`VACUUM FULL tiers_weeklysnapshot` rewrites them).
"""

from django.db import migrations

FILLFACTOR = 50  # one night's new version of each row fits beside the old one


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE tiers_weeklysnapshot SET (fillfactor = {FILLFACTOR})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tiers_weeklysnapshot RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("tiers", "0007_flag_kept_in_tier2")]

    operations = [migrations.RunPython(forwards, backwards)]
