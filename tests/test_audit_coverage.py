"""Every response that shows a student's name or SIS id records that student (SPEC §9).

Like the isolation matrix, the walk discovers every route under /d/<district>/ from the URL
resolver (and every model of the Django admin), so a page, partial or endpoint that someone adds
later joins it by existing. Each route is requested by every role, plainly and as htmx, with GET
and with an empty POST (forms that fail re-render rows too), against a district whose students
carry unmistakable names (Zq<id>first Zq<id>last, SIS id ZQSIS<id>). Whenever a response names a
student, an audit entry written by that same response must name them too; otherwise the route
is reported. Each request runs in a savepoint that is rolled back, so no route changes what the
next one sees.

A new route fills its URL kwargs through the isolation matrix's OBJECT_KWARGS; a query string
it needs to show its students (a panel, a part) goes in QUERY_VARIANTS below.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from districts.models import AuditEvent, Role
from outreach import services as outreach_services
from students.models import Student

from .factories import UserFactory
from .outreach_records import outreach_records
from .outreach_support import flag, student_at
from .test_isolation_matrix import ROUTES, route_id

TOKEN = re.compile(r"Zq(\d+)(?:first|last)|ZQSIS(\d+)")
HX = {"HTTP_HX_REQUEST": "true"}

# Query strings under which a route shows students it would not show bare.
QUERY_VARIANTS = {
    "d/<slug:district>/huddles/rows/<int:row_id>/": [
        "?panel=plan",
        "?panel=action",
        "?panel=escalate",
        "?panel=resolve",
    ],
    "d/<slug:district>/imports/<int:import_run_id>/": ["?part=progress"],
    "d/<slug:district>/roster/": ["?q=Zq"],
    "d/<slug:district>/audit/": ["?student=Zq"],
    "d/<slug:district>/audit/audit.csv": ["?student=Zq"],
}


def _disguise_students(district) -> None:
    """Give every student of the district a name nobody could mistake for other text."""
    with scope(district=district):
        for pk in Student.objects.exclude(first_name__startswith="Zq").values_list("pk", flat=True):
            Student.objects.filter(pk=pk).update(
                first_name=f"Zq{pk}first", last_name=f"Zq{pk}last", sis_id=f"ZQSIS{pk}"
            )


def _shown(response) -> set[int]:
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    text = body.decode("utf-8", errors="replace")
    return {int(a or b) for a, b in TOKEN.findall(text)}


def _recorded(after_id: int) -> set[int]:
    with scopes_disabled():
        return {
            pk
            for students in AuditEvent.objects.filter(pk__gt=after_id).values_list("students", flat=True)
            for pk in students
        }


def _last_event_id() -> int:
    with scopes_disabled():
        return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _request(client, method: str, url: str, htmx: bool):
    """One request in a savepoint rolled back afterwards: what it shows and what it recorded."""
    with transaction.atomic():
        before = _last_event_id()
        response = getattr(client, method)(url, **(HX if htmx else {}))
        shown, recorded = _shown(response), _recorded(before)
        transaction.set_rollback(True)
    return response, shown, recorded


@pytest.fixture
def walk_data(tenant_a, records_a):
    """District A with current figures, open flags and this week's huddle for its students."""
    district = tenant_a.district
    outreach_records(records_a)  # last week's huddle, a row and a logged action
    with scope(district=district):
        today = timezone.localdate(timezone=district.tzinfo)
        flagged = student_at(tenant_a.school, absent=9, band="moderate")
        flag(flagged, first_met=today - datetime.timedelta(days=3))
        flag(flagged, "t2_chronic", first_met=today - datetime.timedelta(days=2))
        outreach_services.huddle_generate(
            district=district, school=tenant_a.school, week_start=outreach_services.week_start_of(today)
        )
    return records_a


def test_every_route_that_names_a_student_records_it(tenant_a, walk_data, client):
    unrecorded, raised, showing = [], [], set()
    for role in Role.values:
        client.force_login(tenant_a.user(role))
        for route in ROUTES:
            base = route.url(walk_data)
            _disguise_students(tenant_a.district)  # after url(): it may have created students
            for query in ["", *QUERY_VARIANTS.get(route.pattern, [])]:
                for method in ("get", "post"):
                    for htmx in (False, True):
                        label = f"{method.upper()}{' htmx' if htmx else ''} {route_id(route)}{query} as {role}"
                        try:
                            response, shown, recorded = _request(client, method, base + query, htmx)
                        except Exception as error:  # a 500: reported, the walk goes on
                            raised.append(f"{label}: {type(error).__name__}: {error}")
                            continue
                        if shown:
                            showing.add(route.pattern)
                        if missing := shown - recorded:
                            unrecorded.append(f"{label} ({response.status_code}) showed students {sorted(missing)}")
    assert not raised, "these requests raised:\n  " + "\n  ".join(raised)
    assert not unrecorded, (
        "these responses named students without recording them (districts.audit.students_shown):\n  "
        + "\n  ".join(unrecorded)
    )
    # The walk is only worth something if the district's students really appear on the pages.
    must_show = {"roster/", "students/<int:student_id>/", "huddles/<int:huddle_id>/", "api/flags/", "api/students/"}
    assert {"d/<slug:district>/" + pattern for pattern in must_show} <= showing, sorted(showing)


def test_every_admin_page_that_names_a_student_records_it(tenant_a, walk_data, client):
    client.force_login(UserFactory(email="root@example.org", is_superuser=True, is_staff=True))
    _disguise_students(tenant_a.district)
    unrecorded, showing = [], set()
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        with scopes_disabled():
            first = model._base_manager.order_by("pk").first()
        urls = [reverse("admin:{}_{}_changelist".format(*info))]
        if first is not None:
            for view in ("change", "history", "delete"):
                try:
                    urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[first.pk]))
                except NoReverseMatch:
                    pass
        for url in urls:
            response, shown, recorded = _request(client, "get", url, htmx=False)
            if shown:
                showing.add(model._meta.label)
            if missing := shown - recorded:
                unrecorded.append(f"GET {url} ({response.status_code}) showed students {sorted(missing)}")
    assert not unrecorded, "\n  ".join(["admin pages named students without recording them:", *unrecorded])
    assert {"students.Student", "students.AttendanceRecord"} <= showing


def test_the_walk_catches_a_route_that_forgets_to_record(tenant_a, walk_data, client, monkeypatch):
    """The walk's own check: with the roster's students_shown call removed, the roster fails it."""
    import outreach.roster_views

    monkeypatch.setattr(outreach.roster_views, "students_shown", lambda *args, **kwargs: None)
    client.force_login(tenant_a.user(Role.DISTRICT_ADMIN))
    _disguise_students(tenant_a.district)
    url = reverse("outreach:roster", kwargs={"district": tenant_a.district.slug})
    _, shown, recorded = _request(client, "get", url, htmx=False)
    assert shown and not recorded
