"""API tokens move from DRF's authtoken (the key stored in plain text, never expiring) to knox
(only a SHA-512 digest stored, with an expiry).

Existing tokens keep working, so no integration breaks on the day of the upgrade: each becomes a
knox token with the same key, stored as its digest, expiring 90 days after this migration (the
default lifetime). The plain-text table is dropped, so the keys no longer sit in the database;
each person sees the converted tokens on /accounts/tokens/ and can revoke them. Irreversible by
design: the keys cannot be recovered from their digests.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

TOKEN_KEY_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH
CONVERTED_TOKEN_DAYS = 90


def convert_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return  # a new installation: nothing to convert
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    expiry = timezone.now() + datetime.timedelta(days=CONVERTED_TOKEN_DAYS)
    AuthToken.objects.bulk_create(
        [
            AuthToken(
                digest=hashlib.sha512(key.encode()).hexdigest(),  # knox.crypto.hash_token with knox's default hash
                token_key=key[:TOKEN_KEY_LENGTH],
                user_id=user_id,
                expiry=expiry,
            )
            for key, user_id in rows
        ]
    )
    schema_editor.execute("DROP TABLE authtoken_token")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("districts", "0004_auditevent_students"),
        ("knox", "0009_extend_authtoken_field"),
    ]
    operations = [migrations.RunPython(convert_tokens, migrations.RunPython.noop)]
