"""Chronic status and severity band from absent days and membership days (SPEC §4), in one place.

The engine classifies every student with these (district and school level, prior years), and the
aggregates classify what the engine did not store (weekly snapshots, prior-year summaries) with the
same functions, so a threshold is never applied two ways. Absences arrive as integers in units of
1/unit day (unit 1 under whole-day counting, thousandths for stored decimals), so "exactly 10%"
compares exactly and is chronic.
"""

from fractions import Fraction

import numpy as np

from .policy import BAND_EDGES, BANDS, INSUFFICIENT_DAYS, Policy

# Past this many units per day, products of units could overflow int64: use Python integers.
LARGEST_INT64_UNIT = 1 << 32


def integers(values, unit: int) -> np.ndarray:
    return np.asarray(values).astype(object if unit > LARGEST_INT64_UNIT else "int64")


def rate_at_least(absent_units, unit: int, fraction: Fraction, membership) -> np.ndarray:
    """absent_units / unit >= fraction × membership, in integers."""
    left = integers(absent_units, unit) * fraction.denominator
    return (left >= fraction.numerator * integers(membership, unit) * unit).astype(bool)


def enough_days(membership, minimum: int) -> np.ndarray:
    """Membership that makes a rate count: no membership is never a rate, whatever the policy."""
    return np.asarray(membership) >= max(1, minimum)


def chronic_status(absent_units, membership, *, unit: int, policy: Policy) -> np.ndarray:
    return enough_days(membership, policy.min_membership_days) & rate_at_least(
        absent_units, unit, policy.chronic_threshold, membership
    )


def severity_bands(absent_units, membership, *, unit: int, minimum: int) -> np.ndarray:
    band_index = np.zeros(len(np.asarray(membership)), dtype="int64")
    for edge in BAND_EDGES:
        band_index += rate_at_least(absent_units, unit, edge, membership)
    bands = np.array(BANDS, dtype=object)[band_index]
    return np.where(enough_days(membership, minimum), bands, INSUFFICIENT_DAYS)


def classify(absent_units, membership, *, unit: int, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """(chronic, band) for each student."""
    return (
        chronic_status(absent_units, membership, unit=unit, policy=policy),
        severity_bands(absent_units, membership, unit=unit, minimum=policy.min_membership_days),
    )


def thousandths(days) -> np.ndarray:
    """Stored decimal day counts (3 places) as exact integer units of 1/1000 day."""
    return np.rint(np.asarray(days, dtype="float64") * 1000).astype("int64")
