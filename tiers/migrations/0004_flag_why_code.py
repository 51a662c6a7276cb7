"""A flag's why becomes a code and parameters (tiers.why) so it reads in the reader's language.
Whys stored as English prose before this keep their text under the code "text"."""

from django.db import migrations, models


def keep_prose(apps, schema_editor):
    build = "jsonb_build_object" if schema_editor.connection.vendor == "postgresql" else "json_object"
    schema_editor.execute(f"UPDATE tiers_flag SET why_code = 'text', why_params = {build}('text', why)")


class Migration(migrations.Migration):
    dependencies = [("tiers", "0003_flag_lifecycle")]

    operations = [
        migrations.AddField(model_name="flag", name="why_code", field=models.CharField(default="text", max_length=32), preserve_default=False),
        migrations.AddField(model_name="flag", name="why_params", field=models.JSONField(blank=True, default=dict)),
        migrations.RunPython(keep_prose, migrations.RunPython.noop),
        migrations.RemoveField(model_name="flag", name="why"),
    ]
