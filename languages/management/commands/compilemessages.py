"""`manage.py compilemessages`, without GNU gettext.

Django's own command shells out to msgfmt, which a fresh machine (or a slim container) may not
have; this one builds the same .mo files with polib, so `./scripts/demo` and the Docker image
need nothing beyond the Python dependencies. Like msgfmt it leaves fuzzy entries out (the
English shows until someone checks them), and like msgfmt --check-format it refuses a translation
whose placeholders differ from the English: that would fail when the page renders.
"""

from django.core.management.base import BaseCommand, CommandError

from languages.catalog import catalogue_problems, compile_catalogue, po_files


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (pure Python; no gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--locale", "-l", action="append", default=[], help="Only these locales.")

    def handle(self, *args, **options):
        wanted = set(options["locale"])
        for po_path in po_files():
            locale = po_path.parent.parent.name
            if wanted and locale not in wanted:
                continue
            problems = catalogue_problems(po_path, require_all=False)
            for problem in problems:
                if problem.fuzzy:
                    self.stderr.write(f"{po_path}: {problem} (left out until checked)")
            problems = [problem for problem in problems if not problem.fuzzy]
            if problems:
                listed = "\n  ".join(str(problem) for problem in problems[:20])
                raise CommandError(f"{po_path}: {len(problems)} problem(s):\n  {listed}")
            mo_path = compile_catalogue(po_path)
            if options["verbosity"] > 0:
                self.stdout.write(f"compiled {mo_path}")
