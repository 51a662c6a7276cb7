"""Audit entries name the students a response showed (districts.audit); on PostgreSQL a GIN index
answers "who saw student X" (students @> '[X]') without reading the whole log."""

from django.db import migrations, models

CREATE = "CREATE INDEX audit_students_gin ON districts_auditevent USING gin (students jsonb_path_ops)"
DROP = "DROP INDEX IF EXISTS audit_students_gin"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("districts", "0003_user_language")]
    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="students",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(forward, backward),
    ]
