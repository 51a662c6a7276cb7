"""The demo district's sign-ins: one person per role. seed_demo creates them; the README and
the browser tests read them from here so the three never disagree."""

from districts.models import Role

DEMO_DISTRICT_SLUG = "demo"
DEMO_DISTRICT_NAME = "Piedmont Unified School District (demo)"
DEMO_PASSWORD = "attend-demo-2026"

# (email, role, school SIS id for school roles, the page the role lands on after sign-in)
DEMO_ACCOUNTS = [
    ("admin@demo.attendnc.org", Role.DISTRICT_ADMIN, None, "districts:people"),
    ("staff@demo.attendnc.org", Role.DISTRICT_STAFF, None, "pulse:dashboard"),
    ("lead@demo.attendnc.org", Role.ATTENDANCE_LEAD, "MS-200", "outreach:huddle_current"),
    ("counselor@demo.attendnc.org", Role.COUNSELOR, "MS-200", "cases:caseload"),
    ("mentor@demo.attendnc.org", Role.MENTOR, None, "outreach:roster"),
]
