"""Room on each page of tiers_flag for a second version of every row (PostgreSQL).

Every night moves `last_met` on every open flag that still holds (about 240,000 rows at 200,000
students). No index covers `last_met`, so with free room on the row's own page PostgreSQL writes
the new version there as a heap-only tuple (HOT): no index entries, and the previous night's
versions are pruned in place. At the default fillfactor (100) the pages are full, every
updated row moves to a new page and every index of the table gets a new entry: 12.2 s of a
run at 200,000 students on the shared 2-core machine (bench/README.md).
Applies to pages written from now on; `VACUUM FULL tiers_flag` rewrites existing ones.
"""

from django.db import migrations

FILLFACTOR = 50  # one night's new version of each row fits beside the old one


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE tiers_flag SET (fillfactor = {FILLFACTOR})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tiers_flag RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("tiers", "0005_partition_results_by_run")]

    operations = [migrations.RunPython(forwards, backwards)]
