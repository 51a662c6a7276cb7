"""The flag lifecycle (issue 11, "one owner"): every status change through tiers.lifecycle, each
recorded as an event; contradicted resolutions confirmed and recorded; ready to close; Tier 3
referrals and cases; and "resolved means resolved" in the nightly run (issue 10)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from districts.models import Role
from students.models import AttendanceRecord
from tiers import lifecycle, services
from tiers.models import Flag, FlagEvent, StudentMetrics

from .factories import EnrollmentFactory, StudentFactory
from .outreach_support import flag, membership, student_at
from .tiers_data import FIRST_DAY, OCT_31, tiers_year

NOV_3 = datetime.date(2025, 11, 3)
NOV_28 = datetime.date(2025, 11, 28)
DEC_12 = datetime.date(2025, 12, 12)


@pytest.fixture
def lead(tenant_a):
    with scope(district=tenant_a.district):
        return membership(tenant_a, Role.ATTENDANCE_LEAD)


def statuses(student) -> dict[str, str]:
    return dict(Flag.objects.filter(student=student).values_list("rule", "status"))


def events(flag_obj) -> list[tuple]:
    return list(FlagEvent.objects.filter(flag=flag_obj).values_list("kind", "from_status", "to_status"))


# --- Tier 2: work and outcomes ------------------------------------------------------------------


def test_the_first_contact_starts_work_on_new_tier2_flags_only(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        recent = flag(student, first_met=NOV_3)
        tier3 = flag(student, "t3_absent_days", first_met=NOV_3)
        moved = lifecycle.flags_start_work(student=student, on=NOV_3, by=lead)
        assert [f.pk for f in moved] == [recent.pk]
        assert statuses(student) == {"t2_recent_absences": "in_progress", "t3_absent_days": "new"}
        assert events(recent) == [("in_progress", "new", "in_progress")]
        assert lifecycle.flags_start_work(student=student, on=NOV_3, by=lead) == [], "once only"
        assert events(tier3) == []


def test_resolving_closes_the_open_flags_and_records_who_and_why(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        open_flag = flag(student, first_met=NOV_3)
        done = flag(student, "t2_chronic", first_met=NOV_3, status=Flag.Status.ESCALATED)
        resolved = lifecycle.flags_resolve(
            flags=Flag.objects.filter(student=student), reason="barrier_removed", note="Bus pass", on=NOV_28, by=lead
        )
        assert [f.pk for f in resolved.flags] == [open_flag.pk] and resolved.text == "Barrier removed: Bus pass"
        open_flag.refresh_from_db()
        assert (open_flag.status, open_flag.resolved_on, open_flag.resolution) == ("resolved", NOV_28, resolved.text)
        event = FlagEvent.objects.get(flag=open_flag)
        assert (event.kind, event.by, event.on, event.detail) == (
            "resolved",
            lead,
            NOV_28,
            {"reason": "barrier_removed"},
        )
        assert Flag.objects.get(pk=done.pk).status == "escalated", "a closed flag stays as it was"
        with pytest.raises(ValidationError):
            lifecycle.flags_resolve(flags=[open_flag], reason="tired of it", by=lead)


def test_improved_for_a_student_still_chronic_asks_for_confirmation_and_records_it(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school, absent=6, membership=50, band="moderate")  # 12.0%
        chronic = flag(student, "t2_chronic", first_met=NOV_3)
        with pytest.raises(lifecycle.ResolutionContradicted) as refused:
            lifecycle.flags_resolve(flags=[chronic], reason="improved", by=lead)
        said = refused.value.contradictions
        assert "still 12.0% absent, at or above the 10% chronic line" in said
        assert any("“Chronically absent” still holds" in text for text in said)
        assert statuses(student) == {"t2_chronic": "new"} and not FlagEvent.objects.exists()

        resolved = lifecycle.flags_resolve(flags=[chronic], reason="improved", on=NOV_28, by=lead, confirmed=True)
        assert resolved.text.startswith("Attendance improved (confirmed although still 12.0% absent")
        event = FlagEvent.objects.get(flag=chronic)
        assert event.detail["confirmed"] is True and event.detail["contradictions"] == said


def test_improved_is_not_contradicted_by_a_lapsed_rule_or_one_that_holds_all_year(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school, absent=2, membership=50)  # 4%
        lapsed = flag(student, first_met=NOV_3)
        Flag.objects.filter(pk=lapsed.pk).update(currently_met=False)
        prior = flag(student, "t2_prior_year_chronic", first_met=NOV_3)
        assert lifecycle.resolution_contradictions(reason="improved", flags=list(Flag.objects.all())) == []
        assert len(lifecycle.flags_resolve(flags=[lapsed, prior], reason="improved", by=lead).flags) == 2


def test_moved_or_withdrew_is_contradicted_while_the_student_is_still_enrolled(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        recent = flag(student, first_met=NOV_3)
        said = lifecycle.resolution_contradictions(reason="left_school", flags=[recent])
        assert said == [f"still enrolled at {tenant_a.school.name} as of Nov. 16, 2025"]
        StudentMetrics.objects.filter(student=student).update(current_school=None, remaining_days=0)
        assert lifecycle.resolution_contradictions(reason="left_school", flags=[recent]) == []


def test_contradictions_name_each_student_when_several_are_closed_at_once(tenant_a, lead):
    with scope(district=tenant_a.district):
        first = student_at(tenant_a.school, absent=6, band="moderate", last_name="Alder")
        second = student_at(tenant_a.school, absent=1, last_name="Birch")
        flag(first, "t2_chronic", first_met=NOV_3), flag(second, first_met=NOV_3)
        Flag.objects.update(currently_met=False)
        flags = list(Flag.objects.all())
        said = lifecycle.resolution_contradictions(reason="improved", flags=flags)
        assert said == [f"{first.full_name}: still 12.0% absent, at or above the 10% chronic line"]


# --- ready to close and keep open -------------------------------------------------------------


def weekdays_between(start: datetime.date, end: datetime.date) -> int:
    return sum(1 for n in range(1, (end - start).days + 1) if (start + datetime.timedelta(n)).weekday() < 5)


def test_ready_to_close_after_ten_school_days_without_the_rule_holding(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        recent = flag(student, first_met=datetime.date(2025, 10, 1))
        Flag.objects.filter(pk=recent.pk).update(currently_met=False, last_met=datetime.date(2025, 10, 31))
        recent.refresh_from_db()
        ready = lambda day: lifecycle.ready_to_close(recent, as_of=day, school_days_between=weekdays_between)  # noqa: E731
        assert not ready(datetime.date(2025, 11, 13))  # 9 school days
        assert ready(datetime.date(2025, 11, 14))  # 10
        as_dict = {name: getattr(recent, name) for name in ("currently_met", "status", "last_met", "kept_open_on")}
        assert lifecycle.ready_to_close(
            as_dict, as_of=datetime.date(2025, 11, 14), school_days_between=weekdays_between
        )

        lifecycle.flags_keep_open(flags=[recent], reason="Court date pending", on=datetime.date(2025, 11, 17), by=lead)
        recent.refresh_from_db()
        assert (recent.status, recent.kept_open_on, recent.kept_open_reason) == (
            "new", datetime.date(2025, 11, 17), "Court date pending"
        )  # fmt: skip
        assert events(recent) == [("kept_open", "new", "new")]
        assert not ready(datetime.date(2025, 11, 28)) and ready(datetime.date(2025, 12, 1))
        with pytest.raises(ValidationError):
            lifecycle.flags_keep_open(flags=[recent], reason="  ", by=lead)


def test_a_flag_whose_rule_still_holds_is_never_ready_to_close(tenant_a):
    with scope(district=tenant_a.district):
        recent = flag(student_at(tenant_a.school), first_met=datetime.date(2025, 9, 1))
        assert not lifecycle.ready_to_close(recent, as_of=DEC_12, school_days_between=weekdays_between)


# --- Tier 3: referrals and cases -------------------------------------------------------------


def test_escalating_refers_to_tier3_and_closes_the_tier2_flags(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        tier2 = [flag(student, first_met=NOV_3), flag(student, "t2_chronic", first_met=NOV_3)]
        tier3, closed = lifecycle.flags_escalate(
            student=student,
            flags=tier2,
            reason="No change after supports",
            why="Escalated: history",
            on=NOV_28,
            by=lead,
        )
        assert (tier3.rule, tier3.tier, tier3.status, tier3.why) == ("t3_after_tier2", 3, "new", "Escalated: history")
        assert {f.status for f in closed} == {"escalated"} and len(closed) == 2
        assert Flag.objects.get(pk=tier2[0].pk).resolution == "Escalated to Tier 3: No change after supports"
        assert events(tier3) == [("referred", "", "new")]

        again, _ = lifecycle.flags_escalate(student=student, flags=[], reason="Again", why="Second", by=lead)
        assert again.pk == tier3.pk, "an open referral is reused, never duplicated"
        assert events(tier3) == [("referred", "", "new"), ("referred", "new", "new")]
        with pytest.raises(ValidationError):
            lifecycle.flags_escalate(student=student, flags=[], reason=" ", why="x", by=lead)


def test_a_case_takes_up_the_tier3_flags_and_closing_it_resolves_them(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        rule_flag = flag(student, "t3_severe_rate", first_met=NOV_3)
        tier2 = flag(student, first_met=NOV_3)
        opened = lifecycle.flags_case_opened(student=student, on=NOV_28, by=lead)
        assert [f.pk for f in opened] == [rule_flag.pk]
        assert statuses(student) == {"t3_severe_rate": "in_progress", "t2_recent_absences": "new"}
        assert events(rule_flag) == [("case_opened", "new", "in_progress")]

        closed = lifecycle.flags_case_closed(student=student, outcome="Attending again", on=DEC_12, by=lead)
        assert [f.pk for f in closed] == [rule_flag.pk]
        rule_flag.refresh_from_db()
        assert (rule_flag.status, rule_flag.resolution, rule_flag.resolved_on) == (
            "resolved", "Case closed: Attending again", DEC_12
        )  # fmt: skip
        assert Flag.objects.get(pk=tier2.pk).status == "new"


def test_a_case_opened_without_a_tier3_flag_gets_one(tenant_a, lead):
    with scope(district=tenant_a.district):
        student = student_at(tenant_a.school)
        (opened,) = lifecycle.flags_case_opened(student=student, on=NOV_28, by=lead)
        assert (opened.rule, opened.tier, opened.status) == ("t3_after_tier2", 3, "in_progress")
        assert events(opened) == [("referred", "", "new"), ("case_opened", "new", "in_progress")]


def test_transitions_refuse_another_districts_flags(tenant_a, tenant_b):
    with scope(district=tenant_b.district):
        other = flag(student_at(tenant_b.school), first_met=NOV_3)
    with scope(district=tenant_a.district):
        lead_a = membership(tenant_a, Role.ATTENDANCE_LEAD)
    with scope(district=tenant_b.district), pytest.raises(ValidationError):
        lifecycle.flags_resolve(flags=[other], reason="other", by=lead_a)
    with scope(district=tenant_b.district):
        assert Flag.objects.get(pk=other.pk).status == "new"


# --- resolved means resolved (the nightly run) ----------------------------------------------


@pytest.fixture
def year(tenant_a):
    return tiers_year(tenant_a)


def compute(district, as_of):
    with scope(district=district):
        return services.compute_metrics(district=district, as_of=as_of, backfill=False)


def test_a_resolved_flag_comes_back_only_as_a_new_flag_after_new_absences(year, lead):
    """`recent`: 3 absences mid-October; resolved Nov 3; the rule lapses; 3 more absences Dec 1–3
    make it fire again: a new flag that names the resolved one."""
    compute(year.district, OCT_31)
    with scope(district=year.district):
        first = Flag.objects.get(student=year.recent, rule="t2_recent_absences")
        lifecycle.flags_resolve(flags=[first], reason="barrier_removed", on=NOV_3, by=lead)
    compute(year.district, NOV_28)
    compute(year.district, DEC_12)
    with scope(district=year.district):
        flags = list(Flag.objects.filter(student=year.recent, rule="t2_recent_absences").order_by("id"))
    assert [(f.status, f.follows_id) for f in flags] == [("resolved", None), ("new", first.pk)]
    assert flags[1].first_met == DEC_12 and "Dec 1, Dec 2, Dec 3" in flags[1].why


def test_a_rule_that_fires_after_a_resolution_without_new_absences_opens_nothing(year, lead):
    """Six absences in the first week: chronic on Oct 31 (12%); the team resolves the student on
    Nov 3. By Nov 28 the rate has fallen to 8.6% — the at-risk rule fires, but with no absence
    since the resolution it is the improvement the team saw, not a new problem. One absence on
    Dec 1 changes that: the at-risk flag opens, following the resolved one."""
    with scope(district=year.district):
        student = StudentFactory(district=year.district, sis_id="EARLY")
        EnrollmentFactory(student=student, school=year.school, entry_date=FIRST_DAY)
        first_week = [FIRST_DAY + datetime.timedelta(days=n) for n in (0, 1, 2, 3, 4, 7)]
        AttendanceRecord.objects.bulk_create(
            AttendanceRecord(district=year.district, student=student, school=year.school, date=day, code="U",
                             category="absent_unexcused")
            for day in first_week
        )  # fmt: skip
    compute(year.district, OCT_31)
    with scope(district=year.district):
        assert StudentMetrics.objects.get(run__is_current=True, student=student).absence_rate == Decimal("0.1200")
        lifecycle.flags_resolve(flags=Flag.objects.filter(student=student), reason="plan_in_place", on=NOV_3, by=lead)
        resolved = set(Flag.objects.filter(student=student).values_list("pk", flat=True))
    compute(year.district, NOV_28)
    with scope(district=year.district):
        metric = StudentMetrics.objects.get(run__is_current=True, student=student)
        assert "t2_at_risk_rate" in metric.rules, "the rule does fire"
        assert set(Flag.objects.filter(student=student).values_list("pk", flat=True)) == resolved
        AttendanceRecord.objects.create(
            district=year.district, student=student, school=year.school, date=datetime.date(2025, 12, 1), code="U",
            category="absent_unexcused",
        )  # fmt: skip
    compute(year.district, DEC_12)
    with scope(district=year.district):
        (new,) = Flag.objects.filter(student=student).exclude(pk__in=resolved)
        assert (new.rule, new.status, new.first_met) == ("t2_at_risk_rate", "new", DEC_12)
        assert new.follows_id in resolved


def test_outreach_never_writes_a_flag_status_itself():
    """The lifecycle has one owner: no module outside tiers/lifecycle.py sets Flag statuses."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root).parts
        if relative[0] in ("tests", "bench", ".venv") or "migrations" in relative:
            continue
        if path.relative_to(root).as_posix() == "tiers/lifecycle.py":
            continue
        text = path.read_text()
        if "status=Flag.Status." in text and ".update(" in text:
            offenders.append(path.relative_to(root).as_posix())
        if "Flag.objects.create(" in text:
            offenders.append(path.relative_to(root).as_posix())
    assert offenders == []


def test_the_why_of_a_case_opened_without_a_flag_reads_in_each_readers_language(tenant_a, lead):
    from django.utils import translation

    with scope(district=tenant_a.district), translation.override("es"):  # the counselor works in Spanish
        student = student_at(tenant_a.school)
        (opened,) = lifecycle.flags_case_opened(student=student, on=NOV_28, by=lead)
    opened.refresh_from_db()
    assert (opened.why_code, opened.why_params) == ("case_opened", {"date": NOV_28.isoformat()})
    with translation.override("en"):
        assert opened.why == "Tier 3 case opened on Nov. 28, 2025."
    with translation.override("es"):
        assert opened.why == "Caso de Nivel 3 abierto el 28 de noviembre de 2025."
