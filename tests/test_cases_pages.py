"""The Tier 3 pages (issue 11): the caseload, the queue, a case with its forms and chart, the
family-meeting PDF, the partner directory, the student page's panel, and who sees what."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from cases import services
from cases.models import Case, Intervention, Referral, Review
from districts.models import AuditEvent
from exports.models import ExportJob
from students.models import MentorAssignment
from tiers.models import Flag
from tiers.services import compute_metrics

from .cases_data import case_world

SEP_1 = datetime.date(2025, 9, 1)


@pytest.fixture
def computed(tenant_a):
    return case_world(tenant_a, compute=True)


@pytest.fixture
def world(tenant_a):
    return case_world(tenant_a)


def url(name, **kwargs):
    return reverse(f"cases:{name}", kwargs={"district": "alpha", **kwargs})


def _case(world, student=None, **plan):
    with scope(district=world.district):
        case = services.case_open(student=student or world.year.monday, by=world.counselor)
        if plan:
            services.case_plan_update(case=case, by=world.counselor, **plan)
    return case


def _as(client, membership):
    client.force_login(membership.user)
    return client


# ----------------------------------------------------------------------------- queue and opening


def test_the_queue_lists_tier3_students_and_a_case_opens_from_it(client, computed):
    _as(client, computed.counselor)
    page = client.get(url("queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert computed.year.monday.full_name in html and "Chronic two years running" in html
    with scope(district=computed.district):
        flag = Flag.objects.filter(student=computed.year.monday, tier=3).first()
    response = client.post(
        url("caseload"),
        {"student": computed.year.monday.pk, "flag": flag.pk, "lead": computed.counselor.pk, "opened_on": "2025-11-03"},
    )
    with scope(district=computed.district):
        case = Case.objects.get(student=computed.year.monday)
        assert case.opened_on == datetime.date(2025, 11, 3)
        assert Flag.objects.get(pk=flag.pk).status == Flag.Status.IN_PROGRESS
    assert response.status_code == 302 and response["Location"] == url("case_detail", case_id=case.pk)
    assert f'id="queue-{computed.year.monday.pk}"' not in client.get(url("queue")).content.decode()


def test_only_counselors_open_cases(client, computed):
    for member in (computed.attendance_lead, computed.staff, computed.admin):
        response = _as(client, member).post(
            url("caseload"),
            {"student": computed.year.monday.pk, "lead": computed.counselor.pk, "opened_on": "2025-11-03"},
        )
        assert response.status_code == 403
    assert _as(client, computed.mentor).get(url("queue")).status_code == 403


# ----------------------------------------------------------------------------- the caseload


def test_the_caseload_shows_the_leads_cases_with_progress_and_overdue_items(client, world):
    case = _case(world, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30), plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
    html = _as(client, world.counselor).get(url("caseload")).content.decode()
    assert world.year.monday.full_name in html
    assert "80.0%" in html  # attendance since Oct 6 (20 days, 4 absent Mondays)
    assert "1 referral past its response time" in html and "review" in html


def test_the_caseload_says_when_a_student_has_moved_to_another_school(client, world):
    """`mover` left for the other school on Oct 1; the case opened before, and the run of Oct 31
    places them at the new school: the lead's caseload says so, so the case gets handed over."""
    computed = world
    with scope(district=world.district):
        services.case_open(student=world.year.mover, by=world.counselor, opened_on=datetime.date(2025, 9, 22))
        services.case_open(student=world.year.monday, by=world.counselor, opened_on=datetime.date(2025, 9, 22))
        compute_metrics(district=world.district, as_of=datetime.date(2025, 10, 31), backfill=False)
    html = _as(client, computed.counselor).get(url("caseload")).content.decode()
    other = computed.year.other_school.name
    assert html.count(f"Now at {other}") == 1
    row = re.search(rf"<tr>(?:(?!</tr>).)*{computed.year.mover.full_name}.*?</tr>", html, re.S).group(0)
    assert f"Now at {other}" in row and "hand the case over" in row


def test_an_attendance_lead_sees_the_case_its_lead_and_next_review_not_its_figures(client, world):
    case = _case(world, plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.review_create(
            case=case, by=world.counselor, review_date=datetime.date(2025, 10, 31), notes="Talked about mornings"
        )
    _as(client, world.attendance_lead)
    html = client.get(url("caseload") + "?view=school").content.decode()
    assert world.year.monday.full_name in html and "Plan details are for the case's counselors." in html
    page = client.get(url("case_detail", case_id=case.pk)).content.decode()
    assert "Nov 14, 2025" in page  # next review
    assert "Talked about mornings" not in page and "80.0%" not in page


def test_mentors_see_nothing_of_cases(client, world):
    case = _case(world)
    _as(client, world.mentor)
    assert client.get(url("caseload")).status_code == 403
    assert client.get(url("case_detail", case_id=case.pk)).status_code == 403


def test_the_caseload_of_60_open_cases_takes_at_most_20_queries(client, tenant_a):
    world = case_world(tenant_a)
    with scope(district=world.district):
        from .factories import EnrollmentFactory, StudentFactory

        students = [StudentFactory(district=world.district, sis_id=f"Q{n:03d}") for n in range(60)]
        for student in students:
            EnrollmentFactory(student=student, school=world.year.school)
        for index, student in enumerate(students):
            case = services.case_open(student=student, by=world.counselor)
            services.case_plan_update(case=case, by=world.counselor, plan_started_on=SEP_1)
            if index % 3 == 0:
                services.referral_create(
                    case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
                )
    _as(client, world.counselor)
    client.get(url("caseload"))  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("caseload"))
    assert response.status_code == 200
    assert response.content.decode().count('href="/d/alpha/cases/') >= 60
    assert len(queries) <= 20, "\n".join(q["sql"][:160] for q in queries)


# ----------------------------------------------------------------------------- the case page and its forms


def test_the_case_page_shows_the_chart_and_its_table_without_inline_styles(client, world):
    case = _case(world, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30), plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.intervention_create(
            case=case, by=world.counselor, kind="mentoring", description="Lunch with a mentor",
            start_date=datetime.date(2025, 10, 13),
        )  # fmt: skip
    html = _as(client, world.counselor).get(url("case_detail", case_id=case.pk)).content.decode()
    assert '<svg class="trend__chart"' in html and 'class="progress__goal"' in html
    assert html.count('class="progress__marker"') == 2  # the plan's start and the intervention
    assert "Week of" in html and "Mentoring from Oct 13, 2025" in html
    assert not re.search(r"<style|\sstyle=|<script(?![^>]*\ssrc=)", html)
    with scopes_disabled():
        assert AuditEvent.objects.filter(object_type="case", object_id=str(case.pk), action="view").exists()


def test_the_progress_chart_coordinates_stay_svg_lengths_in_spanish(client, world):
    """Spanish writes 152,0 for 152.0: in an SVG attribute the browser logs it as an error."""
    case = _case(world, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30), plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.intervention_create(
            case=case, by=world.counselor, kind="mentoring", description="Lunch with a mentor",
            start_date=datetime.date(2025, 10, 13),
        )  # fmt: skip
    user = world.counselor.user
    user.language = "es"
    user.save(update_fields=["language"])
    html = _as(client, world.counselor).get(url("case_detail", case_id=case.pk)).content.decode()
    svg = re.search(r'<svg class="trend__chart".*?</svg>', html, re.S).group(0)
    lengths = re.findall(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|dx|dy)="([^"]*)"', svg)
    assert len(lengths) > 20 and all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in lengths), lengths
    points = re.search(r'<polyline class="trend__line" points="([^"]*)"', svg).group(1)
    assert re.fullmatch(r"[\d.]+,[\d.]+( [\d.]+,[\d.]+)*", points), points
    assert re.search(r'viewBox="0 0 \d+ \d+"', svg)


def test_writing_the_goal_and_an_intervention_makes_the_plan_written(client, world):
    case = _case(world)
    _as(client, world.counselor)
    page = url("case_detail", case_id=case.pk)
    response = client.post(
        page, {"form": "plan", "barriers": ["transportation", "physical_health"], "goal_percent": "90",
               "goal_by": "2026-01-30", "plan_started_on": "2025-10-06", "review_every_days": "14"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("#plan")
    client.post(
        page, {"form": "intervention", "kind": "transportation", "description": "Bus pass", "start_date": "2025-10-06"}
    )
    case.refresh_from_db()
    assert case.goal_rate == Decimal("0.9") and case.barriers == ["transportation", "physical_health"]
    assert case.plan_written_on == datetime.date(2025, 10, 6)


def test_a_refused_legal_referral_says_what_is_missing_in_plain_words(client, world):
    case = _case(world)
    response = _as(client, world.counselor).post(
        url("case_detail", case_id=case.pk),
        {"form": "intervention", "kind": "legal_referral", "description": "Court", "start_date": "2025-10-06"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Supports must come first" in html and "Reach the family" in html and "Review progress" in html
    with scope(district=world.district):
        assert not Intervention.objects.exists()


def test_a_district_admin_overrides_on_the_page_and_the_case_shows_it(client, world):
    case = _case(world)
    _as(client, world.admin)
    response = client.post(
        url("case_detail", case_id=case.pk),
        {"form": "intervention", "kind": "legal_referral", "description": "Court", "start_date": "2025-10-06",
         "override_reason": "Court order on file"},
    )  # fmt: skip
    assert response.status_code == 302
    html = client.get(url("case_detail", case_id=case.pk)).content.decode()
    assert "Support-first guard overridden" in html and "Court order on file" in html
    assert "tier2_family_contact" in html
    counselor_try = _as(client, world.counselor).post(
        url("case_detail", case_id=case.pk),
        {"form": "intervention", "kind": "legal_referral", "description": "x", "start_date": "2025-10-06",
         "override_reason": "sneaky"},
    )  # fmt: skip
    assert counselor_try.status_code == 400  # the field is not on a counselor's form: the guard refuses
    with scope(district=world.district):
        assert Intervention.objects.count() == 1
    staff = _as(client, world.staff).post(url("case_detail", case_id=case.pk), {"form": "plan", "goal_percent": "90"})
    assert staff.status_code == 403


def test_a_referral_sharing_records_needs_consent_on_the_page(client, world):
    case = _case(world)
    _as(client, world.counselor)
    page = url("case_detail", case_id=case.pk)
    body = {"form": "referral", "partner": str(world.partner.pk), "service": "physical_health",
            "referred_on": "2025-09-01", "shares_records": "on"}  # fmt: skip
    refused = client.post(page, body)
    assert refused.status_code == 400 and "guardian&#x27;s consent first" in refused.content.decode()
    accepted = client.post(
        page,
        {
            **body,
            "consent_given_by": "Morgan (mother)",
            "consent_given_on": "2025-08-29",
            "consent_scope": "Attendance",
        },
    )
    assert accepted.status_code == 302
    with scope(district=world.district):
        referral = Referral.objects.get()
    connect = client.post(
        page, {"form": "connect", "referral": referral.pk, "connected_on": "2025-09-05", "outcome": "Seen"}
    )
    assert connect.status_code == 302
    referral.refresh_from_db()
    assert referral.connected_on == datetime.date(2025, 9, 5)


def test_a_review_on_the_page_stores_the_computed_figures(client, world):
    case = _case(world, plan_started_on=datetime.date(2025, 10, 6))
    response = _as(client, world.counselor).post(
        url("case_detail", case_id=case.pk), {"form": "review", "review_date": "2025-10-31", "notes": "Steady"}
    )
    assert response.status_code == 302
    with scope(district=world.district):
        review = Review.objects.get()
    assert (review.days_since, str(review.rate_since)) == (20, "0.8000")


def test_meetings_and_closing(client, world):
    case = _case(world)
    _as(client, world.counselor)
    page = url("case_detail", case_id=case.pk)
    assert client.post(page, {"form": "meeting", "kind": "invitation", "held_on": "2025-09-12"}).status_code == 302
    today = case.opened_on.isoformat()
    closed = client.post(page, {"form": "close", "outcome": "moved", "closed_on": today, "note": "Moved away"})
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_by == world.counselor
    assert client.post(page, {"form": "meeting", "kind": "meeting", "held_on": today}).status_code == 403


def test_an_unknown_form_is_refused(client, world):
    case = _case(world)
    assert _as(client, world.counselor).post(url("case_detail", case_id=case.pk), {"form": "x"}).status_code == 400


def test_sensitive_notes_on_the_case_page_are_for_the_schools_counselors_and_their_author(client, world):
    case = _case(world, plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.review_create(
            case=case, by=world.counselor, review_date=datetime.date(2025, 10, 31), notes="Dad's surgery in May",
            sensitive=True,
        )  # fmt: skip
        services.meeting_create(
            case=case, by=world.counselor, held_on=datetime.date(2025, 10, 8), family_attended=True,
            notes="Mum described the housing court date", sensitive=True,
        )  # fmt: skip
        services.review_create(
            case=case, by=world.counselor, review_date=datetime.date(2025, 11, 14), notes="Mornings steadier"
        )
    page = url("case_detail", case_id=case.pk)
    for reader in (world.counselor, world.second_counselor):
        html = _as(client, reader).get(page).content.decode()
        assert "Dad&#x27;s surgery in May" in html and "housing court date" in html
    for reader in (world.staff, world.admin):
        html = _as(client, reader).get(page).content.decode()
        assert "Mornings steadier" in html, "district roles read the case"
        assert "surgery" not in html and "housing court" not in html
        assert html.count("Details restricted (sensitive)") == 2


def test_the_lead_hands_a_moved_students_case_to_a_counselor_of_the_new_school(client, world):
    """`mover` left for the other school on Oct 1: the case opened before stays with its lead,
    whose lead form offers the new school's counselors too; handing it over moves the case there."""
    with scope(district=world.district):
        case = services.case_open(student=world.year.mover, by=world.counselor, opened_on=datetime.date(2025, 9, 22))
    assert case.school == world.year.school
    page = url("case_detail", case_id=case.pk)
    # The new school's team sees that the case exists, its lead and next review (the student page
    # links to it), not the plan: it is not theirs until the lead hands it over.
    student_page = reverse("students:student_detail", kwargs={"district": "alpha", "student_id": world.year.mover.pk})
    _as(client, world.other_school_counselor)
    assert f'href="{page}"' in client.get(student_page).content.decode()
    summary = client.get(page)
    assert summary.status_code == 200 and 'id="plan"' not in summary.content.decode()
    assert "Pat Member" in summary.content.decode()  # the lead
    html = _as(client, world.counselor).get(page).content.decode()
    lead_select = re.search(r'<select name="lead"[^>]*id="id_lead_lead".*?</select>', html, re.S).group(0)
    assert "Hana High" in lead_select and "Sam Second" in lead_select

    response = client.post(page, {"form": "lead", "lead": world.other_school_counselor.pk})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.lead == world.other_school_counselor and case.school == world.year.other_school
    assert 'id="plan"' in _as(client, world.other_school_counselor).get(page).content.decode()
    assert _as(client, world.second_counselor).get(page).status_code == 404  # the old school's, not the lead


# ----------------------------------------------------------------------------- the PDF


def test_the_family_meeting_pdf_is_plain_language_and_audit_logged(client, world, django_capture_on_commit_callbacks):
    case = _case(world, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30), plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        services.intervention_create(
            case=case, by=world.counselor, kind="transportation", description="Bus pass from the transit office",
            start_date=datetime.date(2025, 10, 6),
        )  # fmt: skip
        services.review_create(
            case=case, by=world.counselor, review_date=datetime.date(2025, 10, 31), notes="Private", sensitive=True
        )
    _as(client, world.counselor)
    assert client.get(url("case_pdf", case_id=case.pk)).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url("case_pdf", case_id=case.pk), {"language": "en"})
    with scope(district=world.district):
        job = ExportJob.objects.get()
    assert started.status_code == 302 and job.renderer == "cases.plan_pdf" and job.students == [world.year.monday.pk]
    download = client.get(reverse("exports:job_download", kwargs={"district": "alpha", "job_id": job.pk}))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "attendance plan" in text and "at least 90.0% of school days" in text
    assert "Bus pass from the transit office" in text and "Who to call" in text
    assert "Private" not in text
    with scopes_disabled():
        event = AuditEvent.objects.get(action="export", object_type="export:cases.plan_pdf")
    assert event.students == [world.year.monday.pk]


def test_the_plan_prints_in_the_familys_language(client, world, django_capture_on_commit_callbacks):
    case = _case(world, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30), plan_started_on=datetime.date(2025, 10, 6))
    with scope(district=world.district):
        world.year.monday.guardians.update(language="Español")
    _as(client, world.counselor)
    assert 'value="es" selected' in client.get(url("case_detail", case_id=case.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("case_pdf", case_id=case.pk))  # no choice made: the family's language
    with scope(district=world.district):
        job = ExportJob.objects.get()
    assert job.params["language"] == "es"
    download = client.get(reverse("exports:job_download", kwargs={"district": "alpha", "job_id": job.pk}))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages)
    assert "Nuestra meta" in text and "A quién llamar" in text


def test_an_attendance_lead_cannot_print_the_plan(client, world):
    case = _case(world)
    assert _as(client, world.attendance_lead).post(url("case_pdf", case_id=case.pk)).status_code == 403
    with scopes_disabled():
        assert not ExportJob.objects.exists()


# ----------------------------------------------------------------------------- partners


def test_admins_keep_the_partner_directory_and_counselors_read_it(client, world):
    _as(client, world.admin)
    response = client.post(
        url("partners"),
        {"name": "Bus Buddies", "services": ["transportation"], "expected_response_days": "5", "is_active": "on"},
    )
    assert response.status_code == 302
    settings = client.post(url("partners"), {"review_every_days": "21", "plan_deadline_days": "10"})
    assert settings.status_code == 302
    world.district.refresh_from_db()
    assert world.district.settings["cases"] == {"review_every_days": 21, "plan_deadline_days": 10}
    assert "Bus Buddies" in _as(client, world.counselor).get(url("partners")).content.decode()
    assert client.post(url("partners"), {"name": "X"}).status_code == 403
    assert client.get(url("partner_edit", partner_id=world.partner.pk)).status_code == 403
    edit = _as(client, world.admin).post(
        url("partner_edit", partner_id=world.partner.pk),
        {"name": world.partner.name, "services": ["mental_health"], "expected_response_days": "12"},
    )
    assert edit.status_code == 302
    world.partner.refresh_from_db()
    assert world.partner.services == ["mental_health"] and not world.partner.is_active
    with scope(district=world.district):
        case = services.case_open(student=world.year.steady, by=world.counselor)
    assert case.review_every_days == 21


# ----------------------------------------------------------------------------- the student page


def test_the_student_page_shows_the_case_or_the_way_to_open_one(client, world):
    student_url = reverse("students:student_detail", kwargs={"district": "alpha", "student_id": world.year.monday.pk})
    html = _as(client, world.counselor).get(student_url).content.decode()
    assert "Open a Tier 3 case" in html
    case = _case(world)
    html = client.get(student_url).content.decode()
    assert url("case_detail", case_id=case.pk) in html and "Open the case" in html
    lead_html = _as(client, world.attendance_lead).get(student_url).content.decode()
    assert "Case summary" in lead_html
    with scope(district=world.district):
        MentorAssignment.objects.create(district=world.district, student=world.year.monday, mentor=world.mentor)
    mentor_page = _as(client, world.mentor).get(student_url)
    assert mentor_page.status_code == 200 and 'id="case-heading"' not in mentor_page.content.decode()
    assert url("case_detail", case_id=case.pk) not in mentor_page.content.decode()
