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
