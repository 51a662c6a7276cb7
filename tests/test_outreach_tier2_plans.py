"""Outreach gives the engine its Tier 2 plans through tiers.hooks (t3_after_tier2)."""

import datetime

from outreach import services
from outreach.tier2_plans import tier2_plans_frame
from tiers import engine, hooks
from tiers.policy import Policy

from .outreach_support import lead, student_at


def test_outreach_registers_its_plans_with_the_tiers_hook():
    assert tier2_plans_frame in hooks._tier2_plan_providers


def test_a_plan_starts_with_the_first_support_and_counts_every_support(tenant_a, in_scope):
    with in_scope(tenant_a.district):
        student, other = student_at(tenant_a.school), student_at(tenant_a.school)
        author = lead(tenant_a)
        for day, support in [(1, ""), (6, "Bus pass"), (20, "Attendance buddy")]:
            services.outreach_action_create(
                student=student,
                author=author,
                attempt_date=datetime.date(2025, 10, day),
                method="call",
                reached=True,
                support_offered=support,
            )
        services.outreach_action_create(
            student=other,
            author=author,
            attempt_date=datetime.date(2025, 11, 3),
            method="call",
            reached=True,
            support_offered="Alarm clock",
        )
        plans = hooks.tier2_plans(district=tenant_a.district, as_of=datetime.date(2025, 11, 14))

    rows = {row.student_id: row for row in plans.itertuples()}
    assert rows[student.pk].supports == 2 and rows[student.pk].started.date() == datetime.date(2025, 10, 6)
    as_of = engine._day(datetime.date(2025, 11, 14))
    ready = engine._tier2_ready(plans, as_of, Policy())
    assert list(ready) == [student.pk], "four weeks after a plan with two supports; the other has one, and is too new"
