"""Intervention effectiveness (issue 12): before/after attendance over 20 membership days,
computed for all events at once, on hand-built timelines (no database for the arithmetic)."""

import datetime
from fractions import Fraction

import pandas as pd
import pytest
from django.urls import reverse

from districts.models import Role
from pulse.effectiveness import days_frame, effect_rows

DAY0 = datetime.date(2025, 9, 1)


def _timeline(days: int, absent_at: set[int]) -> dict[datetime.date, Fraction]:
    return {DAY0 + datetime.timedelta(days=n): Fraction(1 if n in absent_at else 0) for n in range(days)}


def _at(position: int) -> datetime.date:
    return DAY0 + datetime.timedelta(days=position)


def test_before_and_after_by_hand():
    days = days_frame({
        1: _timeline(45, {5, 10, 15, 18, 25}),  # A
        2: _timeline(45, {1, 2}),  # B: its event has only 10 days before it
        3: _timeline(45, set()),  # C: its event has only 15 days after it
    })  # fmt: skip
    events = pd.DataFrame(
        [
            (1, _at(20), "method", "call"),  # before 0..19: 4 absent → 0.80; after 20..39: 1 → 0.95
            (1, _at(30), "method", "call"),  # A's second call: only the first counts
            (1, _at(22), "method", "text"),  # before 2..21: 4 → 0.80; after 22..41: 1 → 0.95
            (2, _at(10), "method", "call"),
            (3, _at(30), "method", "call"),
            (1, _at(20), "barrier", "transportation"),
        ],
        columns=["student_id", "date", "dimension", "code"],
    )
    rows = {(row.dimension, row.code): row for row in effect_rows(events, days)}
    call = rows[("method", "call")]
    assert (call.students, call.rate_before, call.rate_after) == (1, pytest.approx(0.80), pytest.approx(0.95))
    assert call.change == pytest.approx(0.15)
    assert rows[("method", "text")].rate_before == pytest.approx(0.80)
    assert rows[("barrier", "transportation")].students == 1


def test_a_weekend_event_starts_at_the_next_membership_day():
    days = days_frame({1: {DAY0 + datetime.timedelta(days=n * 2): Fraction(n % 4 == 0) for n in range(50)}})
    # Membership every other date; the event on an odd date begins at the next listed day (pos 21).
    events = pd.DataFrame([(1, _at(41), "method", "call")], columns=["student_id", "date", "dimension", "code"])
    (row,) = effect_rows(events, days)
    # before: positions 1..20 → absences at 4, 8, 12, 16, 20 = 5 → 0.75; after 21..40: 24, 28, 32, 36, 40 = 5
    assert (row.rate_before, row.rate_after) == (pytest.approx(0.75), pytest.approx(0.75))


def test_no_events_no_rows():
    assert effect_rows(pd.DataFrame(columns=["student_id", "date", "dimension", "code"]), days_frame({})) == []


def test_the_page_says_descriptive_not_causal_and_is_404_elsewhere(tenant_a, tenant_b, login):
    url = reverse("pulse_review:effectiveness", kwargs={"district": tenant_a.district.slug})
    page = login(tenant_a.user(Role.DISTRICT_STAFF)).get(url)
    assert page.status_code == 200 and "not evidence that the support caused it" in page.content.decode()
    assert login(tenant_b.user(Role.DISTRICT_STAFF)).get(url).status_code == 404
    csv = reverse("pulse_review:effectiveness_csv", kwargs={"district": tenant_a.district.slug})
    assert login(tenant_b.user(Role.DISTRICT_ADMIN)).get(csv).status_code == 404
    assert login(tenant_a.user(Role.MENTOR)).get(url).status_code == 403


# ----------------------------------------------------------------------------- stored each night


def test_the_nightly_run_stores_the_figures_and_the_page_reads_them(tenant_a, login):
    """The page shows what the night stored for the run's date: a call logged after the night
    waits for the next one (then both calls' students count)."""
    from django_scopes import scope

    from outreach.services import outreach_action_create
    from pulse.models import EffectivenessFigures
    from pulse.nightly import after_nightly_run
    from tiers.models import MetricsRun

    from .outreach_support import lead
    from .pulse_data import SUPPORT_CALLED, SUPPORTED_AS_OF, supported_pulse_district

    data = supported_pulse_district(tenant_a)
    with scope(district=data.district):
        run = MetricsRun.objects.get(is_current=True)
        assert not EffectivenessFigures.objects.exists()
        after_nightly_run(district=data.district, run=run)
        (stored,) = EffectivenessFigures.objects.all()
        assert stored.as_of == SUPPORTED_AS_OF
        assert stored.rows == [
            {"dimension": "method", "code": "call", "students": 2, "rate_before": 0.75, "rate_after": 1.0}
        ]
        outreach_action_create(
            student=data.students["brook"], author=lead(tenant_a), attempt_date=SUPPORT_CALLED, method="call",
            reached=True,
        )  # fmt: skip
    url = reverse("pulse_review:effectiveness", kwargs={"district": tenant_a.district.slug})
    staff = login(tenant_a.user(Role.DISTRICT_STAFF))
    assert ">2</td>" in staff.get(url).content.decode()  # the stored two, not three
    with scope(district=data.district):
        after_nightly_run(district=data.district, run=run)  # the same date again: replaced, not added
        assert EffectivenessFigures.objects.get().rows[0]["students"] == 3
    assert ">3</td>" in staff.get(url).content.decode()


def test_without_a_stored_night_the_page_computes_and_stores_once(tenant_a, login):
    from django_scopes import scope

    from pulse.models import EffectivenessFigures

    from .pulse_data import supported_pulse_district

    data = supported_pulse_district(tenant_a)
    url = reverse("pulse_review:effectiveness", kwargs={"district": tenant_a.district.slug})
    page = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(url).content.decode()
    assert "Phone call" in page and "75%" in page and "100%" in page
    with scope(district=data.district):
        assert EffectivenessFigures.objects.count() == 1


def test_the_nightly_store_keeps_only_the_figures_a_page_reads(tenant_a, tenant_b):
    """Only the current run's date is read (the review page, the board report): the nights before
    are removed as each night stores its own, not kept one row a district a night for ever.
    Another district's rows are not touched."""
    import datetime

    from django_scopes import scope

    from pulse.models import EffectivenessFigures
    from pulse.nightly import after_nightly_run
    from tiers.models import MetricsRun

    from .pulse_data import SUPPORTED_AS_OF, supported_pulse_district

    data = supported_pulse_district(tenant_a)
    older = [SUPPORTED_AS_OF - datetime.timedelta(days=days) for days in (1, 2, 30)]
    with scope(district=tenant_b.district):
        EffectivenessFigures.objects.create(district=tenant_b.district, as_of=older[0], rows=[])
    with scope(district=data.district):
        EffectivenessFigures.objects.bulk_create(
            [EffectivenessFigures(district=data.district, as_of=day, rows=[]) for day in older]
        )
        run = MetricsRun.objects.get(is_current=True)
        after_nightly_run(district=data.district, run=run)
        assert list(EffectivenessFigures.objects.values_list("as_of", flat=True)) == [SUPPORTED_AS_OF]
    with scope(district=tenant_b.district):
        assert EffectivenessFigures.objects.count() == 1
