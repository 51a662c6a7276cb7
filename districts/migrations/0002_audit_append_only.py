"""On PostgreSQL the database itself refuses to change or delete audit rows, so not even a
queryset .update()/.delete() or a stray SQL statement can rewrite who saw what."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION attendnc_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER districts_auditevent_append_only
    BEFORE UPDATE OR DELETE ON districts_auditevent
    FOR EACH ROW EXECUTE FUNCTION attendnc_audit_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS districts_auditevent_append_only ON districts_auditevent;
DROP FUNCTION IF EXISTS attendnc_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("districts", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
