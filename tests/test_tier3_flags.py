"""Tier 3 flags that close when they stop mattering (issue 10, SPEC §5/§6), on a hand-built
fortnight (three weeks of huddles at one school):

- a Tier 3 trigger nobody took up whose rule stopped holding is ready to close after 10 school
  days, with its figures then and now, and leaves the escalation candidates;
- a Tier 3 flag of an open case is never ready to close: the case's outcome closes it;
- "keep in Tier 2 for now": off the agenda and the counselors' queue until the review date,
  back then if the rule still holds, recorded (event, audit, timeline, student page), on the
  huddle row with htmx, refused to another district (404) and to a row that is no candidate.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cases import selectors as case_selectors
from districts.access import DistrictAccess
from districts.models import AuditEvent, Role
from outreach import services
from outreach.models import HuddleRow, Section
from tiers import lifecycle
from tiers.models import Flag, FlagEvent, MetricsRun

from .outreach_support import LAST_WEEK, NEXT_WEEK, WEEK, flag, lead, membership, student_at, weekday_calendar

HX = {"HX-Request": "true"}
OCT_1 = datetime.date(2025, 10, 1)
OCT_31 = datetime.date(2025, 10, 31)  # a Friday: 10 school days before this week's figures (Nov 14)


def weekdays_between(start: datetime.date, end: datetime.date) -> int:
    return sum(1 for n in range(1, (end - start).days + 1) if (start + datetime.timedelta(n)).weekday() < 5)


def _lapsed(flag_obj, on=OCT_31):
    Flag.objects.filter(pk=flag_obj.pk).update(currently_met=False, last_met=on)
    flag_obj.refresh_from_db()
    return flag_obj


def _generate(tenant, week):
    """The huddle of `week`, from figures as of the Friday before it."""
    MetricsRun.objects.filter(is_current=True).update(as_of=week - datetime.timedelta(days=3))
    huddle = services.huddle_generate(district=tenant.district, school=tenant.school, week_start=week)
    return {row.student.last_name: row for row in huddle.rows.select_related("student")}


@pytest.fixture
def fortnight(tenant_a):
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school)
        s = {name: student_at(tenant_a.school, last_name=name) for name in [
            "Stale", "Holding", "Mixed", "Case", "Kept", "KeptLapsed",
        ]}  # fmt: skip
        flags = {name: flag(s[name], "t3_severe_rate", first_met=OCT_1) for name in s}
        _lapsed(flags["Stale"])
        _lapsed(flags["Mixed"])
        flags["Mixed2"] = flag(s["Mixed"], first_met=OCT_1)  # Tier 2 still holding
        lifecycle.flags_case_opened(student=s["Case"], on=OCT_1)
        _lapsed(flags["Case"], on=datetime.date(2025, 10, 3))
        last = _generate(tenant_a, LAST_WEEK)
        yield s, flags, last


def test_a_tier3_trigger_whose_rule_lapsed_is_ready_to_close_after_10_school_days(fortnight, tenant_a):
    s, flags, last = fortnight
    with scope(district=tenant_a.district):
        assert last["Stale"].section == Section.TIER3, "5 school days without the rule: still a candidate"
        now = _generate(tenant_a, WEEK)
        assert now["Stale"].section == Section.READY_TO_CLOSE
        assert now["Holding"].section == Section.TIER3
        stale = next(r for r in now["Stale"].reasons if r["tier"] == 3)
        assert stale["last_met"] == "2025-10-31", "the 'then' of then and now"
        services.huddle_row_resolve(row=now["Stale"], by=lead(tenant_a), reason="improved")
        assert Flag.objects.get(pk=flags["Stale"].pk).status == Flag.Status.RESOLVED


def test_a_lapsed_tier3_trigger_beside_a_live_tier2_flag_leaves_the_candidates(fortnight, tenant_a):
    _, _, last = fortnight
    with scope(district=tenant_a.district):
        assert last["Mixed"].section == Section.TIER3
        now = _generate(tenant_a, WEEK)
        assert now["Mixed"].section not in (Section.TIER3, Section.READY_TO_CLOSE)


def test_a_tier3_flag_of_an_open_case_is_closed_by_the_case_never_by_a_lapse(fortnight, tenant_a):
    s, flags, last = fortnight
    with scope(district=tenant_a.district):
        case_flag = Flag.objects.get(pk=flags["Case"].pk)
        assert case_flag.status == Flag.Status.IN_PROGRESS and not case_flag.currently_met
        assert not lifecycle.ready_to_close(case_flag, as_of=NEXT_WEEK, school_days_between=weekdays_between)
        assert "Case" not in last and "Case" not in _generate(tenant_a, WEEK)
        lifecycle.flags_case_closed(student=s["Case"], outcome="Attending again", on=WEEK)
        assert Flag.objects.get(pk=flags["Case"].pk).resolution == "Case closed: Attending again"


# ----------------------------------------------------------------------------- keep in Tier 2 for now


def test_keep_in_tier2_takes_the_trigger_off_the_agenda_and_the_queue_until_the_review(fortnight, tenant_a):
    s, flags, last = fortnight
    with scope(district=tenant_a.district):
        me = lead(tenant_a)
        counselor = DistrictAccess.for_membership(membership(tenant_a, Role.COUNSELOR))
        assert s["Kept"].pk in {e.student.pk for e in case_selectors.case_queue(access=counselor, today=LAST_WEEK)}
        for name in ("Kept", "KeptLapsed"):
            services.huddle_row_keep_in_tier2(
                row=last[name], by=me, reason="Bus pass started this week", school_days=5, on=LAST_WEEK
            )
        kept = Flag.objects.get(pk=flags["Kept"].pk)
        assert (kept.status, kept.kept_in_tier2_until, kept.kept_in_tier2_reason) == (
            "new", datetime.date(2025, 11, 17), "Bus pass started this week"
        )  # fmt: skip
        event = FlagEvent.objects.get(flag=kept, kind=FlagEvent.Kind.KEPT_IN_TIER2)
        assert (event.by, event.note, event.detail) == (me, "Bus pass started this week", {"until": "2025-11-17"})
        row = HuddleRow.objects.get(pk=last["Kept"].pk)
        assert row.is_open and row.section == Section.NO_OWNER and row.next_step_due == datetime.date(2025, 11, 17)

        queue = {e.student.pk for e in case_selectors.case_queue(access=counselor, today=LAST_WEEK)}
        assert s["Kept"].pk not in queue and s["Holding"].pk in queue
        assert s["Kept"].pk in {
            e.student.pk for e in case_selectors.case_queue_kept_in_tier2(access=counselor, today=LAST_WEEK)
        }

        # The review falls in this week: back on the agenda, since the rule still holds.
        _lapsed(flags["KeptLapsed"], on=datetime.date(2025, 11, 12))
        now = _generate(tenant_a, WEEK)
        assert now["Kept"].section == Section.TIER3
        assert now["KeptLapsed"].section != Section.TIER3, "not back: its rule no longer holds"
        assert s["Kept"].pk in {e.student.pk for e in case_selectors.case_queue(access=counselor, today=WEEK)}
        assert s["KeptLapsed"].pk not in {e.student.pk for e in case_selectors.case_queue(access=counselor, today=WEEK)}


def test_keep_in_tier2_needs_a_reason_and_a_review_date_after_today(fortnight, tenant_a):
    s, flags, last = fortnight
    with scope(district=tenant_a.district):
        me = lead(tenant_a)
        for reason, until in [
            ("  ", WEEK),
            ("Waiting", LAST_WEEK),
            ("Waiting", None),
            ("Waiting", NEXT_WEEK + datetime.timedelta(days=90)),
        ]:
            with pytest.raises(ValidationError):
                lifecycle.flags_keep_in_tier2(flags=[flags["Holding"]], reason=reason, until=until, on=LAST_WEEK, by=me)
        with pytest.raises(ValidationError):  # no Tier 3 trigger waiting: a case's flag
            lifecycle.flags_keep_in_tier2(flags=[flags["Case"]], reason="Waiting", until=WEEK, on=LAST_WEEK, by=me)
        assert not FlagEvent.objects.filter(kind=FlagEvent.Kind.KEPT_IN_TIER2).exists()


def _row_url(name, row, district="alpha"):
    return reverse(f"outreach:{name}", kwargs={"district": district, "row_id": row.pk})


def test_keep_in_tier2_on_the_huddle_row_with_htmx(fortnight, tenant_a, login):
    s, flags, _ = fortnight
    with scope(district=tenant_a.district):
        row = _generate(tenant_a, WEEK)["Holding"]
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    page = client.get(reverse("outreach:huddle_detail", kwargs={"district": "alpha", "huddle_id": row.huddle_id}))
    assert "?panel=keep_tier2" in page.content.decode()
    panel = client.get(_row_url("huddle_row", row), {"panel": "keep_tier2"}, headers=HX)
    assert panel.status_code == 200 and "Back on the agenda after (school days)" in panel.content.decode()

    refused = client.post(_row_url("huddle_row_keep_tier2", row), {"reason": "", "school_days": "10"}, headers=HX)
    assert refused.status_code == 200 and refused.headers["HX-Retarget"] == f"#row-{row.pk}-panel"
    neither = client.post(_row_url("huddle_row_keep_tier2", row), {"reason": "Waiting"}, headers=HX)
    assert "Give a number of school days or a review date." in neither.content.decode()

    saved = client.post(
        _row_url("huddle_row_keep_tier2", row),
        {"reason": "Family asked for two weeks", "school_days": "10"},
        headers=HX,
    )
    assert saved.status_code == 200 and "in Tier 2 until" in saved.headers["HX-Trigger"]
    with scope(district=tenant_a.district):
        kept = Flag.objects.get(pk=flags["Holding"].pk)
        assert kept.kept_in_tier2_reason == "Family asked for two weeks"
        assert kept.kept_in_tier2_until == weekday_after(datetime.date.today(), 10)
        audit = AuditEvent.objects.get(object_type="huddle_row", object_id=str(row.pk), action=AuditEvent.Action.CHANGE)
        assert "Kept" in audit.object_label and "in Tier 2" in audit.object_label

    student = s["Holding"].pk
    detail = client.get(reverse("students:student_detail", kwargs={"district": "alpha", "student_id": student}))
    assert "Kept in Tier 2 for now, review" in detail.content.decode()
    timeline = client.get(reverse("outreach:student_timeline", kwargs={"district": "alpha", "student_id": student}))
    assert "Family asked for two weeks (review" in timeline.content.decode()


def weekday_after(start: datetime.date, count: int) -> datetime.date:
    day = start
    while count:
        day += datetime.timedelta(days=1)
        count -= day.weekday() < 5
    return day


def test_keep_in_tier2_is_only_for_escalation_candidates(fortnight, tenant_a, login):
    _, _, _ = fortnight
    with scope(district=tenant_a.district):
        now = _generate(tenant_a, WEEK)
    client = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    response = client.post(_row_url("huddle_row_keep_tier2", now["Stale"]), {"reason": "x", "school_days": "5"})
    assert response.status_code == 403
    mentor = login(tenant_a.user(Role.MENTOR))
    assert mentor.post(
        _row_url("huddle_row_keep_tier2", now["Holding"]), {"reason": "x", "school_days": "5"}
    ).status_code in (403, 404)


def test_another_districts_user_gets_404_on_keep_in_tier2(fortnight, tenant_b, login):
    _, _, last = fortnight
    client = login(tenant_b.user(Role.ATTENDANCE_LEAD))
    for district in ("alpha", "beta"):
        assert (
            client.post(
                _row_url("huddle_row_keep_tier2", last["Holding"], district), {"reason": "x", "school_days": "5"}
            ).status_code
            == 404
        )
        assert (
            client.get(
                _row_url("huddle_row", last["Holding"], district), {"panel": "keep_tier2"}, headers=HX
            ).status_code
            == 404
        )
    with scopes_disabled():
        assert not FlagEvent.objects.filter(kind=FlagEvent.Kind.KEPT_IN_TIER2).exists()


# ----------------------------------------------------------------------------- what the counselor reads


def test_a_referral_played_on_a_past_date_is_dated_that_day_and_reads_with_one_period(fortnight, tenant_a):
    _, _, last = fortnight
    with scope(district=tenant_a.district):
        escalation = services.huddle_row_escalate(
            row=last["Holding"], by=lead(tenant_a), reason="Needs the counselor and a partner.", on=LAST_WEEK
        )
        assert timezone.localtime(escalation.escalated_at).date() == LAST_WEEK
        why = escalation.tier3_flag.why
        assert "and a partner. Tier 2" in why and ".." not in why


def test_the_queue_says_a_rule_no_longer_holds_only_for_flags_the_rule_raised(tenant_a, login):
    with scope(district=tenant_a.district):
        weekday_calendar(tenant_a.school)
        by_rule = _lapsed(flag(student_at(tenant_a.school, last_name="ByRule"), "t3_after_tier2", first_met=OCT_1))
        Flag.objects.filter(pk=by_rule.pk).update(
            why_code="t3_after_tier2", why_params={"rate": 0.156, "weeks": 4, "supports": 2}
        )
        referred = student_at(tenant_a.school, last_name="Referred")
        _lapsed(lifecycle.flag_refer_to_tier3(student=referred, why="Family asked for more help", on=OCT_1))
    page = login(tenant_a.user(Role.COUNSELOR)).get(reverse("cases:queue", kwargs={"district": "alpha"}))
    body = page.content.decode()
    by_rule_card, referred_card = body.split('class="card queue-entry"')[1:3]
    assert "ByRule" in by_rule_card and "The rule no longer holds: last met Oct 31." in by_rule_card
    assert "Referred" in referred_card and "no longer holds" not in referred_card


def test_a_referral_reads_once_in_the_queue(fortnight, tenant_a, login):
    """The team's reason and Tier 2 history show under "referred by the attendance team"; the
    referral flag's own why (the same words) is not repeated above it."""
    _, _, last = fortnight
    with scope(district=tenant_a.district):
        services.huddle_row_escalate(
            row=last["Holding"], by=lead(tenant_a), reason="Family asked for the counselor", on=LAST_WEEK
        )
    body = login(tenant_a.user(Role.COUNSELOR)).get(reverse("cases:queue", kwargs={"district": "alpha"})).content
    card = next(c for c in body.decode().split('class="card queue-entry"')[1:] if "Holding" in c)
    assert card.count("Family asked for the counselor") == 1
    assert "Referred by the attendance team" in card


def test_a_student_kept_in_tier2_on_two_rules_is_one_line_of_the_queue_page(fortnight, tenant_a, login):
    s, flags, last = fortnight
    with scope(district=tenant_a.district):
        second = flag(s["Kept"], "t3_absent_days", first_met=OCT_1)
        services.huddle_row_keep_in_tier2(
            row=last["Kept"], by=lead(tenant_a), reason="Bus pass started this week", school_days=5, on=LAST_WEEK
        )
        Flag.objects.filter(pk=second.pk).update(
            kept_in_tier2_until=datetime.date(2025, 11, 21), kept_in_tier2_reason="Mentor meets her daily"
        )
        counselor = DistrictAccess.for_membership(membership(tenant_a, Role.COUNSELOR))
        kept = case_selectors.case_queue_kept_in_tier2(access=counselor, today=LAST_WEEK)
        assert [e.student.pk for e in kept] == [s["Kept"].pk]
        assert kept[0].review == datetime.date(2025, 11, 17)
        assert kept[0].reasons == ["Bus pass started this week", "Mentor meets her daily"]
        assert len(kept[0].labels) == 2
        # The page reads today's date: reviews still ahead of it.
        Flag.objects.filter(pk=flags["Kept"].pk).update(kept_in_tier2_until=weekday_after(datetime.date.today(), 5))
        Flag.objects.filter(pk=second.pk).update(kept_in_tier2_until=weekday_after(datetime.date.today(), 10))
    body = login(tenant_a.user(Role.COUNSELOR)).get(reverse("cases:queue", kwargs={"district": "alpha"})).content
    kept_section = body.decode().split('id="kept-heading"')[1]
    assert kept_section.count("<li>") == 1
    assert "Bus pass started this week; Mentor meets her daily" in kept_section
