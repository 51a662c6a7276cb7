"""The cases app's writes (issue 11): opening from the queue with the stored timers, the plan
becoming "written", the support-first guard code by code and the admin's override, consent
before any record is shared, overdue referrals, and closing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cases import guard, selectors, services
from cases.models import Case, Intervention
from districts.access import DistrictAccess
from districts.models import AuditEvent
from outreach.services import outreach_action_create
from tiers.models import Flag

from .cases_data import case_world

SEP_1 = datetime.date(2025, 9, 1)
SEP_26 = datetime.date(2025, 9, 26)  # 19 school days after Sep 1 (no holidays in this calendar)
SEP_29 = datetime.date(2025, 9, 29)  # 20 school days after Sep 1
OCT_6 = datetime.date(2025, 10, 6)


@pytest.fixture
def world(tenant_a, tenant_b):
    case_world(tenant_b, prefix="B")
    return case_world(tenant_a)


@pytest.fixture
def computed(tenant_a):
    return case_world(tenant_a, compute=True)


def _open(world, student=None, **kwargs):
    return services.case_open(student=student or world.year.monday, by=world.counselor, **kwargs)


def _plan(world, case, *, start=SEP_1):
    services.case_plan_update(
        case=case, by=world.counselor, goal_rate="0.90", goal_by=datetime.date(2026, 1, 30), plan_started_on=start,
        barriers=["transportation"],
    )  # fmt: skip
    services.intervention_create(
        case=case, by=world.counselor, kind="check_in_check_out", description="Morning check-in", start_date=start
    )
    case.refresh_from_db()
    return case


def _supports_first(world, case, *, on=OCT_6):
    """Everything the guard asks for, dated before `on`."""
    student = world.year.monday
    outreach_action_create(
        student=student, author=world.counselor, attempt_date=datetime.date(2025, 9, 3), method="call", reached=True,
        barrier="transportation", support_offered="Bus pass",
    )  # fmt: skip
    _plan(world, case)
    services.referral_create(
        case=case, by=world.counselor, partner=world.partner, service="physical_health",
        referred_on=datetime.date(2025, 9, 10),
    )  # fmt: skip
    services.meeting_create(case=case, by=world.counselor, held_on=datetime.date(2025, 9, 12), family_attended=True)
    services.review_create(case=case, by=world.counselor, review_date=datetime.date(2025, 9, 30))


def _legal(world, case, *, by=None, start=OCT_6, **kwargs):
    return services.intervention_create(
        case=case, by=by or world.counselor, kind="legal_referral", description="Attendance court referral",
        start_date=start, **kwargs,
    )  # fmt: skip


# ----------------------------------------------------------------------------- opening and timers


def test_opening_from_the_queue_stores_the_trigger_to_lead_timer_and_takes_the_flags_up(computed):
    with scope(district=computed.district):
        access = DistrictAccess.for_membership(computed.counselor)
        queued = {entry.student.pk: entry for entry in selectors.case_queue(access=access)}
        assert computed.year.monday.pk in queued
        flag = queued[computed.year.monday.pk].flags[0]
        case = services.case_open(
            student=computed.year.monday,
            by=computed.counselor,
            flag=flag,
            opened_on=flag.first_met + datetime.timedelta(3),
        )
        assert case.lead == computed.counselor
        assert case.triggered_on == flag.first_met
        assert case.days_to_lead == 3
        assert case.school == computed.year.school
        assert not Flag.objects.filter(student=computed.year.monday, tier=3, status="new").exists()
        assert set(case.flags.all()) >= {flag}
        assert computed.year.monday.pk not in {e.student.pk for e in selectors.case_queue(access=access)}


def test_the_queue_is_the_counselors_schools_only(computed):
    with scope(district=computed.district):
        elsewhere = DistrictAccess.for_membership(computed.other_school_counselor)
        assert computed.year.monday.pk not in {e.student.pk for e in selectors.case_queue(access=elsewhere)}


def test_a_case_opened_without_a_flag_has_no_trigger_and_no_timer(world):
    with scope(district=world.district):
        case = _open(world, world.year.steady)
        assert case.triggered_on is None and case.days_to_lead is None


def test_the_lead_must_be_a_counselor_of_the_students_school(world):
    with scope(district=world.district):
        with pytest.raises(ValidationError) as refused:
            _open(world, lead=world.other_school_counselor)
        assert "lead" in refused.value.message_dict
        with pytest.raises(ValidationError):
            _open(world, lead=world.attendance_lead)
        case = _open(world, lead=world.second_counselor)
        assert case.lead == world.second_counselor


def test_one_open_case_per_student(world):
    with scope(district=world.district):
        _open(world)
        with pytest.raises(ValidationError) as refused:
            _open(world)
        assert "student" in refused.value.message_dict


def test_a_case_cannot_be_opened_in_the_future(world):
    with scope(district=world.district), pytest.raises(ValidationError):
        _open(world, opened_on=timezone.localdate() + datetime.timedelta(days=1))


def test_another_districts_student_is_refused(world, tenant_b):
    with scopes_disabled():
        from students.models import Student

        foreign = Student.objects.filter(district=tenant_b.district).first()
    with scope(district=world.district), pytest.raises(ValidationError):
        _open(world, foreign)


def test_the_plan_is_written_with_a_goal_and_one_intervention_and_the_timer_stops(world):
    with scope(district=world.district):
        case = _open(world, opened_on=datetime.date(2025, 8, 28))
        case.triggered_on = datetime.date(2025, 8, 27)
        case.save()
        services.case_plan_update(case=case, by=world.counselor, goal_rate="0.9", goal_by=datetime.date(2026, 1, 30))
        assert not case.is_written
        services.case_plan_update(case=case, by=world.counselor, plan_started_on=SEP_1)
        services.intervention_create(
            case=case, by=world.counselor, kind="mentoring", description="Weekly mentor", start_date=SEP_1
        )
        case.refresh_from_db()
        assert case.plan_written_on == SEP_1  # recorded after the fact: counted from the plan's start
        assert case.days_to_plan == 5
        assert case.next_review_on == SEP_1 + datetime.timedelta(days=14)


def test_goal_rate_and_barriers_are_checked(world):
    with scope(district=world.district):
        case = _open(world)
        for bad in ("1.5", "0", "abc", "0.12345"):
            with pytest.raises(ValidationError) as refused:
                services.case_plan_update(case=case, by=world.counselor, goal_rate=bad)
            assert "goal_rate" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            services.case_plan_update(case=case, by=world.counselor, barriers=["bus"])
        assert "barriers" in refused.value.message_dict
        with pytest.raises(ValidationError):
            services.case_plan_update(case=case, by=world.counselor, review_every_days=7)


# ----------------------------------------------------------------------------- the support-first guard


def test_a_legal_referral_on_a_new_case_is_refused_with_every_code(world):
    with scope(district=world.district):
        case = _open(world)
        with pytest.raises(services.GuardRefused) as refused:
            _legal(world, case)
        assert refused.value.missing == guard.GUARD_CODES
        assert not Intervention.objects.filter(kind="legal_referral").exists()
        assert "Supports must come first" in refused.value.messages[0]


def test_with_every_support_first_the_legal_referral_passes(world):
    with scope(district=world.district):
        case = _open(world)
        _supports_first(world, case)
        intervention = _legal(world, case)
        assert intervention.override_reason == "" and intervention.override_missing == []


@pytest.mark.parametrize(
    "code",
    ["tier2_family_contact", "tier2_support", "plan_age", "partner_referral", "family_meeting", "progress_review"],
)
def test_each_missing_support_is_named_alone(world, code):
    with scope(district=world.district):
        case = _open(world)
        student = world.year.monday
        if code != "tier2_family_contact":
            outreach_action_create(
                student=student, author=world.counselor, attempt_date=datetime.date(2025, 9, 3), method="home_visit",
                reached=True,
            )  # fmt: skip
        if code != "tier2_support":
            outreach_action_create(
                student=student, author=world.counselor, attempt_date=datetime.date(2025, 9, 4), method="student_check_in",
                reached=True, barrier="transportation", support_offered="Bus pass",
            )  # fmt: skip
        _plan(world, case, start=SEP_1 if code != "plan_age" else datetime.date(2025, 9, 15))
        if code != "partner_referral":
            services.referral_create(
                case=case, by=world.counselor, service="transportation", no_partner=True, referred_on=SEP_1
            )
        if code != "family_meeting":
            services.meeting_create(case=case, by=world.counselor, held_on=datetime.date(2025, 9, 12), invitation=True)
            services.meeting_create(case=case, by=world.counselor, held_on=datetime.date(2025, 9, 19), invitation=True)
        if code != "progress_review":
            services.review_create(case=case, by=world.counselor, review_date=datetime.date(2025, 9, 30))
        with pytest.raises(services.GuardRefused) as refused:
            _legal(world, case)
        assert refused.value.missing == [code]


def test_family_contact_counts_three_attempts_by_two_methods_but_not_one_method(world):
    with scope(district=world.district):
        case = _open(world)
        student = world.year.monday
        for day, method in [(2, "call"), (3, "call"), (4, "call")]:
            outreach_action_create(
                student=student, author=world.counselor, attempt_date=datetime.date(2025, 9, day), method=method,
                reached=False,
            )  # fmt: skip
        assert "tier2_family_contact" in guard.missing_codes(case=case, on=OCT_6)
        outreach_action_create(
            student=student, author=world.counselor, attempt_date=datetime.date(2025, 9, 5), method="letter",
            reached=False,
        )  # fmt: skip
        assert "tier2_family_contact" not in guard.missing_codes(case=case, on=OCT_6)


def test_a_student_check_in_is_not_a_family_contact(world):
    with scope(district=world.district):
        case = _open(world)
        outreach_action_create(
            student=world.year.monday, author=world.counselor, attempt_date=datetime.date(2025, 9, 2),
            method="student_check_in", reached=True,
        )  # fmt: skip
        assert "tier2_family_contact" in guard.missing_codes(case=case, on=OCT_6)


def test_plan_age_counts_twenty_school_days(world):
    with scope(district=world.district):
        case = _plan(world, _open(world))
        assert "plan_age" in guard.missing_codes(case=case, on=SEP_26)
        assert "plan_age" not in guard.missing_codes(case=case, on=SEP_29)


def test_plan_age_skips_the_schools_holidays(world):
    from students.models import CalendarDay

    with scope(district=world.district):
        CalendarDay.objects.create(
            district=world.district, school=world.year.school, date=datetime.date(2025, 9, 17), instructional=False
        )
        case = _plan(world, _open(world))
        assert "plan_age" in guard.missing_codes(case=case, on=SEP_29)
        assert "plan_age" not in guard.missing_codes(case=case, on=datetime.date(2025, 9, 30))


def test_supports_dated_after_the_referral_start_do_not_count(world):
    with scope(district=world.district):
        case = _open(world)
        _supports_first(world, case)
        assert guard.missing_codes(case=case, on=datetime.date(2025, 9, 11)) == [
            "plan_age", "family_meeting", "progress_review",
        ]  # fmt: skip


def test_a_district_admin_overrides_with_a_reason_audit_logged(world):
    with scope(district=world.district):
        case = _open(world)
        intervention = _legal(world, case, by=world.admin, override_reason="Court order already in place")
        assert intervention.override_missing == guard.GUARD_CODES
        assert intervention.override_by == world.admin
        event = AuditEvent.objects.get(object_type="guard_override")
        assert event.user == world.admin.user
        assert event.detail["missing"] == guard.GUARD_CODES
        assert event.detail["reason"] == "Court order already in place"


def test_a_counselors_override_is_refused(world):
    with scope(district=world.district):
        case = _open(world)
        with pytest.raises(PermissionDenied):
            _legal(world, case, override_reason="I insist")
        assert not Intervention.objects.exists()
        assert not AuditEvent.objects.filter(object_type="guard_override").exists()


def test_other_kinds_are_not_guarded(world):
    with scope(district=world.district):
        case = _open(world)
        for kind in ["mentoring", "home_visit", "health_referral", "transportation", "schedule_change", "other"]:
            services.intervention_create(case=case, by=world.counselor, kind=kind, description=kind, start_date=SEP_1)
        assert case.interventions.count() == 6


# ----------------------------------------------------------------------------- referrals and consent


def test_sharing_records_without_consent_is_refused(world):
    with scope(district=world.district):
        case = _open(world)
        for missing in ["consent_given_by", "consent_given_on", "consent_scope"]:
            consent = {"consent_given_by": "Maria (mother)", "consent_given_on": SEP_1, "consent_scope": "Attendance"}
            consent[missing] = "" if missing != "consent_given_on" else None
            with pytest.raises(ValidationError) as refused:
                services.referral_create(
                    case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1,
                    shares_records=True, **consent,
                )  # fmt: skip
            assert "consent" in refused.value.message_dict
        assert not case.referrals.exists()
        assert not AuditEvent.objects.filter(object_type="partner_disclosure").exists()


def test_consent_after_the_referral_or_expired_before_it_is_refused(world):
    with scope(district=world.district):
        case = _open(world)
        base = dict(case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1,
                    shares_records=True, consent_given_by="Maria", consent_scope="Attendance")  # fmt: skip
        with pytest.raises(ValidationError):
            services.referral_create(**base, consent_given_on=datetime.date(2025, 9, 2))
        with pytest.raises(ValidationError):
            services.referral_create(
                **base, consent_given_on=datetime.date(2025, 8, 1), consent_expires_on=datetime.date(2025, 8, 31)
            )


def test_a_disclosure_with_consent_is_audit_logged(world):
    with scope(district=world.district):
        case = _open(world)
        referral = services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="mental_health", referred_on=SEP_1,
            shares_records=True, consent_given_by="Maria Tester (mother)", consent_given_on=datetime.date(2025, 8, 29),
            consent_scope="Attendance this year", consent_expires_on=datetime.date(2026, 6, 10),
        )  # fmt: skip
        event = AuditEvent.objects.get(object_type="partner_disclosure")
        assert event.action == AuditEvent.Action.EXPORT
        assert event.object_id == str(referral.pk)
        assert event.detail["partner"] == world.partner.pk
        assert event.detail["consent_given_by"] == "Maria Tester (mother)"
        assert event.detail["consent_scope"] == "Attendance this year"


def test_a_referral_without_sharing_needs_no_consent_and_logs_no_disclosure(world):
    with scope(district=world.district):
        case = _open(world)
        services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        assert not AuditEvent.objects.filter(object_type="partner_disclosure").exists()


def test_a_service_the_partner_does_not_offer_is_refused(world):
    with scope(district=world.district), pytest.raises(ValidationError) as refused:
        services.referral_create(
            case=_open(world), by=world.counselor, partner=world.partner, service="housing", referred_on=SEP_1
        )
    assert "service" in refused.value.message_dict


def test_a_referral_is_overdue_past_the_partners_expected_response_days(world):
    with scope(district=world.district):
        case = _open(world)
        referral = services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        assert referral.due_on() == datetime.date(2025, 9, 11)
        assert not referral.is_overdue(datetime.date(2025, 9, 11))
        assert referral.is_overdue(datetime.date(2025, 9, 12))
        services.referral_update(referral=referral, by=world.counselor, connected_on=datetime.date(2025, 9, 15))
        assert not referral.is_overdue(datetime.date(2025, 9, 30))


def test_declined_and_no_partner_referrals_are_never_overdue(world):
    with scope(district=world.district):
        case = _open(world)
        declined = services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1,
            declined=True,
        )  # fmt: skip
        none = services.referral_create(
            case=case, by=world.counselor, service="housing", referred_on=SEP_1, no_partner=True
        )
        assert not declined.is_overdue(datetime.date(2026, 1, 1)) and not none.is_overdue(datetime.date(2026, 1, 1))
        with pytest.raises(ValidationError):
            services.referral_update(referral=declined, by=world.counselor, connected_on=datetime.date(2025, 9, 5))


def test_the_caseload_counts_overdue_referrals_and_reviews(world):
    with scope(district=world.district):
        case = _plan(world, _open(world))
        services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        access = DistrictAccess.for_membership(world.counselor)
        [row] = selectors.caseload(access=access, today=datetime.date(2025, 9, 20), lead_ids=[world.counselor.pk])
        assert row.overdue_referrals == 1
        assert row.review_overdue  # plan started Sep 1, every 14 days: due Sep 15
        assert not row.plan_late
        [row] = selectors.caseload(access=access, today=datetime.date(2025, 9, 10), lead_ids=[world.counselor.pk])
        assert row.overdue_referrals == 0 and not row.review_overdue


def test_a_connection_cannot_precede_the_referral(world):
    with scope(district=world.district):
        referral = services.referral_create(
            case=_open(world), by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        with pytest.raises(ValidationError) as refused:
            services.referral_update(referral=referral, by=world.counselor, connected_on=datetime.date(2025, 8, 30))
        assert "connected_on" in refused.value.message_dict


# ----------------------------------------------------------------------------- closing and follow-through


def test_closing_resolves_the_tier3_flags(computed):
    with scope(district=computed.district):
        case = services.case_open(student=computed.year.monday, by=computed.counselor)
        services.case_close(case=case, by=computed.counselor, outcome="improved", note="Bus route fixed")
        case.refresh_from_db()
        assert case.status == Case.Status.CLOSED and case.next_review_on is None
        assert not Flag.objects.filter(student=computed.year.monday, tier=3, status__in=Flag.OPEN_STATUSES).exists()
        with pytest.raises(ValidationError):
            services.intervention_create(
                case=case, by=computed.counselor, kind="mentoring", description="x", start_date=SEP_1
            )


def test_follow_through_reads_the_stored_timers(world):
    with scope(district=world.district):
        case = _open(world, opened_on=datetime.date(2025, 8, 29))
        Case.objects.filter(pk=case.pk).update(triggered_on=datetime.date(2025, 8, 25), days_to_lead=4)
        case.refresh_from_db()
        _plan(world, case)  # written Sep 1: 7 days after the trigger
        late = _open(world, world.year.recent, opened_on=datetime.date(2025, 8, 29))
        Case.objects.filter(pk=late.pk).update(triggered_on=datetime.date(2025, 8, 1), days_to_lead=28)
        late.refresh_from_db()
        _plan(world, late)  # written Sep 1: 31 days after the trigger
        referral = services.referral_create(
            case=case, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        services.referral_update(referral=referral, by=world.counselor, connected_on=datetime.date(2025, 9, 8))
        services.referral_create(
            case=late, by=world.counselor, partner=world.partner, service="physical_health", referred_on=SEP_1
        )
        figures = selectors.case_follow_through(district=world.district, today=datetime.date(2025, 10, 1))
        assert figures.cases_opened == 2 and figures.cases_with_trigger == 2
        assert figures.plans_written == 2 and figures.plans_written_within_deadline == 1
        assert figures.median_days_to_plan == 19 and figures.median_days_to_lead == 16
        assert (figures.referrals_made, figures.referrals_connected, figures.referrals_overdue) == (2, 1, 1)
        assert selectors.trigger_to_plan_days() == [7, 31]
