"""Results tables partitioned by run on PostgreSQL (tiers.partitions explains why). The models
do not change; on SQLite nothing happens."""

from django.db import migrations

from tiers.partitions import PARTITIONED_TABLES, rebuild


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in PARTITIONED_TABLES:
            rebuild(schema_editor, table, partition=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in PARTITIONED_TABLES:
            rebuild(schema_editor, table, partition=False)


class Migration(migrations.Migration):
    dependencies = [("tiers", "0004_flag_why_code")]

    operations = [migrations.RunPython(forwards, backwards)]
