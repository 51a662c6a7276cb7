"""This week's agenda (issue 10) on a hand-built fortnight: last week's huddle, the team's work on
it, then this week's — new, due, overdue, no owner, on track, ready to close, resolved (gone) and
re-fired (new again, saying so) — plus the deadline clock, keep open, close as improved and the
page's filters."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from districts.models import Role
from outreach import services
from outreach.models import AGENDA_SECTIONS, HuddleRow, Section
from tiers.models import Flag, FlagEvent, MetricsRun

from .outreach_support import LAST_WEEK, NEXT_WEEK, WEEK, flag, lead, student_at, weekday_calendar

HX = {"HX-Request": "true"}


def _generate(tenant, week=WEEK):
    return services.huddle_generate(district=tenant.district, school=tenant.school, week_start=week)


def _act(student, author, day, method="call", support="", follow_up=None):
    services.outreach_action_create(
        student=student, author=author, attempt_date=day, method=method, reached=True, support_offered=support,
        follow_up_date=follow_up,
    )  # fmt: skip


@pytest.fixture
def fortnight(tenant_a):
    """Last week's huddle worked by the team, then this week's generated."""
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school)
        me = lead(tenant_a)
        s = {name: student_at(tenant_a.school, last_name=name) for name in [
            "Due", "Overdue", "OnTrack", "NoOwner", "Ready", "Resolved", "Refired", "New", "Tier3",
        ]}  # fmt: skip
        earlier = LAST_WEEK - datetime.timedelta(days=3)
        flags = {name: flag(s[name], first_met=earlier) for name in ["Due", "Overdue", "OnTrack", "NoOwner", "Ready"]}
        flags["Resolved"] = flag(s["Resolved"], first_met=earlier)
        flags["Refired"] = flag(s["Refired"], first_met=earlier)
        # The Ready student's rule last held on Oct 31: 10 school days before this week's figures.
        Flag.objects.filter(pk=flags["Ready"].pk).update(
            first_met=datetime.date(2025, 10, 20), last_met=datetime.date(2025, 10, 31), currently_met=False
        )
        last = _generate(tenant_a, LAST_WEEK)
        rows = {row.student.last_name: row for row in last.rows.select_related("student")}
        for name in ["Due", "Overdue", "OnTrack", "Ready", "Refired"]:
            due = WEEK + datetime.timedelta(days=2) if name == "Due" else NEXT_WEEK
            services.huddle_row_plan(row=rows[name], by=me, owner=me, next_step="Call home", next_step_due=due)
        for name in ["Due", "OnTrack", "NoOwner"]:  # the Tier 2 steps done in time
            _act(s[name], me, LAST_WEEK, "student_check_in")
            _act(s[name], me, LAST_WEEK + datetime.timedelta(days=1), support="Bus pass")
        services.huddle_row_resolve(row=rows["Resolved"], by=me, reason="barrier_removed")
        services.huddle_row_resolve(row=rows["Refired"], by=me, reason="barrier_removed")
        # The rule fired again for Refired with absences after the resolution: a new flag.
        again = flag(s["Refired"], "t2_chronic", first_met=WEEK - datetime.timedelta(days=1))
        Flag.objects.filter(pk=again.pk).update(follows=flags["Refired"])
        flag(s["New"], first_met=WEEK - datetime.timedelta(days=2))
        flag(s["Tier3"], "t3_severe_rate", first_met=WEEK - datetime.timedelta(days=2))
        huddle = _generate(tenant_a)
        yield huddle, s, {row.student.last_name: row for row in huddle.rows.select_related("student")}


def test_each_student_of_the_fortnight_lands_in_their_section(fortnight):
    _, _, rows = fortnight
    assert {name: row.section for name, row in rows.items()} == {
        "Tier3": Section.TIER3, "New": Section.NEW, "Refired": Section.NEW, "Due": Section.FOLLOW_UP,
        "Overdue": Section.FOLLOW_UP, "NoOwner": Section.NO_OWNER, "Ready": Section.READY_TO_CLOSE,
        "OnTrack": Section.ON_TRACK,
    }  # fmt: skip
    assert "Resolved" not in rows, "resolved means resolved: no carry-over"
    assert {name for name, row in rows.items() if row.on_agenda} == {
        "Tier3", "New", "Refired", "Due", "Overdue", "NoOwner"
    }  # fmt: skip


def test_a_refired_flag_is_new_and_says_it_follows_a_resolution(fortnight, tenant_a, login):
    huddle, _, rows = fortnight
    assert rows["Refired"].reasons[0]["follows"] is True
    assert rows["Refired"].carried_over_from_id is None
    page = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(
        reverse("outreach:huddle_detail", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    )
    assert "flagged again after it was resolved" in page.content.decode()


def test_deadlines_count_from_the_flags_first_huddle(tenant_a):
    """A flag met in September in a district whose first huddle is this week is not overdue."""
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school)
        student = student_at(tenant_a.school)
        flag(student, first_met=datetime.date(2025, 9, 2))
        first = _generate(tenant_a).rows.get()
        assert first.tier2_clock == WEEK and first.tier2_since == datetime.date(2025, 9, 2)
        assert first.section == Section.NEW
        services.huddle_row_plan(row=first, by=lead(tenant_a), owner=lead(tenant_a), next_step="", next_step_due=None)
        # A week on, nobody has checked in: the check-in (3 school days from the first huddle) is overdue.
        second = _generate(tenant_a, NEXT_WEEK).rows.get()
        assert second.tier2_clock == WEEK and second.section == Section.FOLLOW_UP


def test_the_first_huddle_shows_no_step_overdue(tenant_a, login):
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school, end=datetime.date(2026, 12, 31))
        student = student_at(tenant_a.school, last_name="Early")
        flag(student, first_met=datetime.date(2025, 9, 2))
        today = datetime.date.today()
        huddle = services.huddle_generate(
            district=tenant_a.district, school=tenant_a.school, week_start=services.week_start_of(today)
        )
    page = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(
        reverse("outreach:huddle_detail", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    )
    body = page.content.decode()
    assert "checklist__step--overdue" not in body and "checklist__step--open" in body


def test_keep_open_records_the_reason_and_moves_the_row_to_on_track(fortnight, tenant_a, login):
    _, _, rows = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("outreach:huddle_row_keep_open", kwargs={"district": "alpha", "row_id": rows["Ready"].pk})
    response = client.post(url, {"reason": "Court date pending"}, headers=HX)
    assert response.status_code == 200
    with scope(district=tenant_a.district):
        row = HuddleRow.objects.get(pk=rows["Ready"].pk)
        assert row.section == Section.ON_TRACK and row.is_open
        event = FlagEvent.objects.get(kind=FlagEvent.Kind.KEPT_OPEN)
        assert event.note == "Court date pending" and event.flag.kept_open_reason == "Court date pending"


def test_keep_open_is_only_for_rows_ready_to_close(fortnight, tenant_a, login):
    _, _, rows = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("outreach:huddle_row_keep_open", kwargs={"district": "alpha", "row_id": rows["Due"].pk})
    assert client.post(url, {"reason": "x"}).status_code == 403


def test_close_as_improved_is_one_action_unless_the_figures_disagree(fortnight, tenant_a, login):
    _, s, rows = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("outreach:huddle_row_resolve", kwargs={"district": "alpha", "row_id": rows["Ready"].pk})
    assert client.post(url, {"reason": "improved"}, headers=HX).status_code == 200
    with scope(district=tenant_a.district):
        assert HuddleRow.objects.get(pk=rows["Ready"].pk).outcome == HuddleRow.Outcome.RESOLVED
        # A student still above the chronic line: the same click asks for confirmation.
        chronic = rows["OnTrack"]
        run = MetricsRun.objects.get(is_current=True)
        run.student_metrics.filter(student=s["OnTrack"]).update(chronic=True)
    url = reverse("outreach:huddle_row_resolve", kwargs={"district": "alpha", "row_id": chronic.pk})
    response = client.post(url, {"reason": "improved"}, headers=HX)
    assert "Confirm to resolve anyway" in response.content.decode()
    with scope(district=tenant_a.district):
        assert HuddleRow.objects.get(pk=chronic.pk).is_open


def test_the_page_shows_the_agenda_and_collapses_on_track(fortnight, tenant_a, login):
    huddle, _, _ = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("outreach:huddle_detail", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    body = client.get(url).content.decode()
    assert "This week&#x27;s agenda: 6 students" in body or "This week's agenda: 6 students" in body
    assert '<details class="huddle-section huddle-section--collapsed" id="section-on_track">' in body
    assert "Rule last held" in body and "Close: improved" in body

    only = client.get(url, {"section": "on_track"}).content.decode()
    assert "OnTrack" in only and "Overdue," not in only and 'id="section-on_track" open' in only
    searched = client.get(url, {"q": "overdue"}).content.decode()
    assert "Overdue," in searched and "NoOwner," not in searched
    no_owner = client.get(url, {"owner": "none"}).content.decode()
    assert "NoOwner," in no_owner and "OnTrack," not in no_owner
    assert "Tier3," in client.get(url, {"discussed": "no", "grade": "7"}).content.decode()


def test_the_api_rows_say_section_and_agenda(fortnight, tenant_a, login):
    huddle, _, _ = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("api:huddle_row_list", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    rows = client.get(url).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    by_section = {(row["section"], row["agenda"]) for row in rows}
    assert ("on_track", False) in by_section and ("ready_to_close", False) in by_section
    assert all(row["agenda"] == (row["section"] in AGENDA_SECTIONS) for row in rows)


def test_another_districts_user_gets_404_on_keep_open(fortnight, tenant_b, login):
    _, _, rows = fortnight
    client = login(tenant_b.user(Role.ATTENDANCE_LEAD))
    for district in ("alpha", "beta"):
        url = reverse("outreach:huddle_row_keep_open", kwargs={"district": district, "row_id": rows["Ready"].pk})
        assert client.post(url, {"reason": "x"}).status_code == 404
    with scopes_disabled():
        assert not FlagEvent.objects.filter(kind=FlagEvent.Kind.KEPT_OPEN).exists()


def test_the_csv_has_plain_words_beside_the_codes(fortnight, tenant_a, login):
    huddle, _, rows = fortnight
    response = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(
        reverse("outreach:huddle_csv", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    )
    import csv
    import io

    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    ready = next(line for line in lines if line["student_sis_id"] == rows["Ready"].student.sis_id)
    assert (ready["section"], ready["section_code"], ready["agenda"]) == ("Ready to close", "ready_to_close", "no")
    assert ready["rules"] == "t2_recent_absences" and ready["rules_label"] and ready["rules_label"] != ready["rules"]


def test_html_responses_are_gzipped(fortnight, tenant_a, login):
    huddle, _, _ = fortnight
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    url = reverse("outreach:huddle_detail", kwargs={"district": "alpha", "huddle_id": huddle.pk})
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    import gzip

    assert b"Weekly huddle" in gzip.decompress(response.content)
