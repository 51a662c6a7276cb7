"""The one place chronic status and bands are decided (tiers.classification)."""

from fractions import Fraction

import numpy as np

from tiers.classification import classify, thousandths
from tiers.policy import Policy


def test_exactly_ten_percent_is_chronic_and_moderate():
    chronic, band = classify([2, 1, 3, 6, 9], [20, 20, 20, 20, 20], unit=1, policy=Policy())
    assert chronic.tolist() == [True, False, True, True, True]
    assert band.tolist() == ["moderate", "at_risk", "moderate", "acute", "acute"]


def test_too_few_days_is_neither_chronic_nor_banded():
    chronic, band = classify([5, 1], [9, 10], unit=1, policy=Policy())
    assert chronic.tolist() == [False, True]
    assert band.tolist() == ["insufficient_days", "moderate"]


def test_no_membership_is_never_a_rate_even_with_a_zero_minimum():
    chronic, band = classify([0], [0], unit=1, policy=Policy(min_membership_days=0))
    assert chronic.tolist() == [False] and band.tolist() == ["insufficient_days"]


def test_stored_decimal_days_compare_exactly_in_thousandths():
    # 1.5 of 15 days is exactly 10%: a float comparison of 0.1 * 15 could go either way.
    units = thousandths([1.5, 1.499])
    chronic, _ = classify(units, np.array([15, 15]), unit=1000, policy=Policy(chronic_threshold=Fraction(1, 10)))
    assert chronic.tolist() == [True, False]
