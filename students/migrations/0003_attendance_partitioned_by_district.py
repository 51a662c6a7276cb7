"""Attendance partitioned by district on PostgreSQL (students.partitions explains why): every
district holding rows gets its partition, an empty DEFAULT partition takes rows of districts
without one. The model does not change; on SQLite nothing happens."""

from django.db import migrations

from students.partitions import ATTENDANCE


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        ATTENDANCE.rebuild(schema_editor, partition=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        ATTENDANCE.rebuild(schema_editor, partition=False)


class Migration(migrations.Migration):
    dependencies = [("students", "0002_attendance_no_district_index")]

    operations = [migrations.RunPython(forwards, backwards)]
