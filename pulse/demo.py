"""The demo's support-request chapter (students.demo_story, order 410): what schools asked the
district for this fall, so the district's queue and the lead's home page look like week 14 of a
working year: some resolved with a note, some open with an owner and a due date, one past it,
and one just filed with no owner yet.

Everything goes through the support services with dates in the past; the same `today` gives the
same requests.
"""

import datetime

from django.utils import timezone

from districts.models import District, Membership, Role, School
from students.models import Student

from . import support_services as services
from .demo_follow_through import demo_follow_through
from .models import SupportRequest

# (school SIS id, category, subject, description, days ago filed, due in days from today or None,
#  resolved days ago or None, resolution, comments by the school [(days ago, text)], students named)
REQUESTS = [
    ("MS-200", "transportation", "Route 14 no longer stops at Maple Court",
     "Since the route change in October, four families at Maple Court have no stop within a mile. Three of "
     "the students are on this week's huddle list.", 30, None, 21,
     "Transportation added a stop at Maple Ct & 5th from November 3. Families were called in English and "
     "Spanish.", [(26, "Two more families asked about this at the conference night.")], 3),
    ("MS-200", "student_support", "Family needs help with housing after an eviction",
     "A seventh grader's family was evicted last week and is staying with relatives across the county. "
     "We think they qualify as McKinney-Vento.", 12, -2, None, "",
     [(9, "The family is still at the relatives' address; the student missed three days.")], 1),
    ("MS-200", "partner_services", "No mental health partner with openings before January",
     "Both counseling partners have waitlists into January. We have five students waiting for a first "
     "appointment.", 6, 5, None, "", [], 0),
    ("HS-300", "data", "Code 'AE' (activity excused) shows as unknown",
     "Our SIS started using AE for athletics. Those days show up as unknown codes in the import.", 18, None, 15,
     "Mapped AE to present (school activity) in the attendance code map; the held rows were replayed.", [], 0),
    ("HS-300", "staffing", "Attendance clerk out on leave until January",
     "Our clerk is out; nobody is entering the same-day notices. Can the district send someone two mornings a "
     "week?", 9, -4, None, "", [(4, "We are still entering notices by hand at lunch.")], 0),
    ("ES-100", "training", "Training for new teachers on the huddle",
     "Five teachers joined in October and have not seen the huddle. Could someone walk them through it at "
     "our staff meeting?", 4, 10, None, "", [], 0),
    ("ES-110", "family_messaging", "Letters in Vietnamese",
     "We have twelve families who read Vietnamese. Can the nudge letters be translated?", 2, None, None, "",
     [], 0),
]  # fmt: skip


def _at(today: datetime.date, days_ago: int, hour: int = 10) -> datetime.datetime:
    day = today - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _member(role: str, school: School | None = None) -> Membership | None:
    members = Membership.objects.filter(is_active=True, grants__role=role)
    if school is not None:
        members = members.filter(grants__school=school)
    return members.select_related("user").order_by("pk").first()


def demo_pulse_review(*, district: District, today: datetime.date, calendar) -> dict[str, int]:
    """Chapter 410: the follow-through (when no earlier chapter held huddles), then the support requests."""
    counts = demo_follow_through(district=district, today=today, calendar=calendar)
    return {**counts, **demo_support_requests(district=district, today=today)}


def demo_support_requests(*, district: District, today: datetime.date, calendar=None) -> dict[str, int]:
    SupportRequest.objects.all().delete()  # replaying the chapter starts from none
    schools = {school.sis_id: school for school in School.objects.all()}
    staff, admin = _member(Role.DISTRICT_STAFF), _member(Role.DISTRICT_ADMIN)
    created = 0
    for index, (sis_id, category, subject, description, filed, due_in, resolved, note, comments, named) in enumerate(
        REQUESTS
    ):
        school = schools.get(sis_id)
        asker = school and (_member(Role.ATTENDANCE_LEAD, school) or _member(Role.COUNSELOR, school))
        if asker is None or staff is None:
            continue
        students = list(
            Student.objects.filter(enrollments__school=school, enrollments__exit_date__isnull=True)
            .order_by("last_name", "pk")
            .distinct()[index : index + named]
        )
        request = services.support_request_create(
            school=school, by=asker, category=category, subject=subject, description=description,
            students=students, requested_at=_at(today, filed, 9),
        )  # fmt: skip
        owner = staff if index % 3 != 2 or admin is None else admin
        if due_in is not None or resolved is not None:
            due = (
                today + datetime.timedelta(days=due_in)
                if due_in is not None
                else today - datetime.timedelta(days=resolved - 2)
            )
            services.support_request_assign(
                request=request, by=staff, owner=owner, due_on=due, at=_at(today, filed - 1)
            )
        for days_ago, text in comments:
            services.support_comment_add(request=request, by=asker, body=text, at=_at(today, days_ago, 14))
        if resolved is not None:
            services.support_request_resolve(request=request, by=owner, resolution=note, at=_at(today, resolved, 15))
        created += 1
    return {"support requests": created}
