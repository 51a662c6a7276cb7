import datetime

from django.core.management.base import BaseCommand, CommandError

from districts.tenancy import district_scope
from students.demo import BANDS, DEMO_URL, seed_demo
from students.demo_story import demo_story_play


class Command(BaseCommand):
    help = "Build (or rebuild) the demo district: schools, students, half a year of attendance, one sign-in per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            help="YYYY-MM-DD; the demo's 'today' (default: today in America/New_York). Same date, same data.",
        )
        parser.add_argument("--students", type=int, default=1500, help="how many students (default 1500)")
        parser.add_argument(
            "--roster-only",
            action="store_true",
            help="build the roster and attendance only; skip the story the other apps play on top (students.demo_story)",
        )

    def handle(self, *args, today, students, roster_only, **options):
        if students < 50:
            raise CommandError("--students must be at least 50, so every school and grade has students.")
        summary = seed_demo(today=today, students=students)
        calendar = summary.calendar
        if not roster_only:
            with district_scope(summary.district):
                summary.counts.update(
                    demo_story_play(district=summary.district, today=calendar.today, calendar=calendar)
                )
        self.stdout.write(self.style.SUCCESS(f"{summary.district.name} (/d/{summary.district.slug}/) is ready."))
        self.stdout.write(
            f"School year {calendar.instructional[0]} to {calendar.instructional[-1]}: "
            f"{len(calendar.elapsed)} of {len(calendar.instructional)} instructional days before {calendar.today}."
        )
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label:<20} {count:>7,}")
        rated = sum(summary.bands[band] for band in BANDS) or 1
        shares = ", ".join(f"{band} {100 * summary.bands[band] / rated:.0f}%" for band in BANDS)
        self.stdout.write(f"Absence bands to date: {shares}")
        self.stdout.write("\nDemo sign-ins:")
        width = max(len(email) for email, _, _ in summary.logins)
        for email, role, password in summary.logins:
            self.stdout.write(f"  {email:<{width}}  {role:<16}  {password}")
        self.stdout.write(f"\nOpen {DEMO_URL} and sign in with any of them.")
