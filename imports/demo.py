"""The demo's imports chapter: last night's SIS file left a few rows for the admin to deal with,
as real exports do. Three rows name "HMS" (the SIS's old code for Hawthorne Middle School: map
it on Imports → Unknown schools), two carry the code "FT" (field trip: map it on the code map),
and one came from the vendor's test building, which the admin already discarded with a reason.
Run through the real import, so the rows are held exactly as a real file's would be."""

import csv
import datetime
import tempfile
from pathlib import Path

from districts.models import Membership, Role
from students.models import Enrollment

from . import selectors, services
from .models import ImportRun, SchoolAlias

OLD_CODE = "HMS"
TEST_BUILDING = "TEST-01"


def play_imports(*, district, today: datetime.date, calendar) -> dict[str, int]:
    # seed_demo rebuilds the district each run: this chapter's rows go first (the demo has no other imports).
    SchoolAlias.objects.filter(district=district).delete()
    ImportRun.objects.filter(district=district).delete()
    school = "MS-200"
    students = list(
        Enrollment.objects.filter(school__sis_id=school, exit_date__isnull=True)
        .order_by("student__sis_id")
        .values_list("student__sis_id", flat=True)[:6]
    )
    days = calendar.elapsed[-2:]
    if len(students) < 6 or len(days) < 2:
        return {}
    rows = [
        *[(sis_id, OLD_CODE, days[-1], "U", "") for sis_id in students[:3]],
        *[(sis_id, school, days[-2], "FT", "") for sis_id in students[3:5]],
        (students[5], TEST_BUILDING, days[-1], "U", ""),
    ]
    admin = Membership.objects.filter(grants__role=Role.DISTRICT_ADMIN).select_related("user").first()
    with tempfile.TemporaryDirectory(prefix="attendnc-demo-") as folder:
        path = Path(folder) / "attendance.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student_id", "school_id", "date", "code", "minutes_absent"])
            writer.writerows([(s, sch, day.isoformat(), code, minutes) for s, sch, day, code, minutes in rows])
        run = services.import_run_create(
            district=district,
            format="csv",
            path=path,
            source=ImportRun.Source.COMMAND,
            user=admin.user if admin else None,
        )
        services.import_run_process(run=run)
    discarded = services.held_rows_discard(
        district=district,
        rows=selectors.held_row_list(school_sis_id=TEST_BUILDING),
        note="The SIS vendor's test building came along in the nightly export.",
        user=admin.user if admin else None,
    )
    return {"held import rows": run.rows_quarantined - discarded, "held rows discarded": discarded}
