"""`manage.py expire_files [--hours N]`: remove export files and nudge-letter folders made more
than EXPORT_RETENTION_HOURS ago (or N hours), as beat does every hour. For an installation that
runs no beat, or an operator who wants the files gone now; their pages offer to prepare them again."""

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from exports.services import export_files_expire
from outreach.families.letters import letter_files_expire


class Command(BaseCommand):
    help = "Remove export files and nudge-letter folders older than EXPORT_RETENTION_HOURS."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, help="Keep files this many hours (default: EXPORT_RETENTION_HOURS).")

    def handle(self, *args, hours=None, **options):
        if hours is not None and hours < 0:
            raise CommandError("--hours must be 0 or more.")
        with scopes_disabled():  # every district's old files, by date only
            exports = export_files_expire(hours=hours)
            letters = letter_files_expire(hours=hours)
        self.stdout.write(f"Removed the files of {exports} export(s) and {letters} letter batch folder(s).")
