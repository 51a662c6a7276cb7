"""Enrollments, calendar days and prior years partitioned by district on PostgreSQL, as
attendance is (students.partitions explains why): every district holding rows gets its
partition, an empty DEFAULT partition takes rows of districts without one. The models do not
change but for the calendar's index on district_id alone, which both of its unique keys make
redundant. On SQLite nothing else happens."""

import django.db.models.deletion
from django.db import migrations, models

from students.partitions import CALENDAR, ENROLLMENTS, PRIOR_YEARS

TABLES = (ENROLLMENTS, CALENDAR, PRIOR_YEARS)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            table.rebuild(schema_editor, partition=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in reversed(TABLES):
            table.rebuild(schema_editor, partition=False)


class Migration(migrations.Migration):
    dependencies = [("students", "0004_no_district_only_indexes")]

    operations = [
        migrations.AlterField(
            model_name="calendarday",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="districts.district",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
