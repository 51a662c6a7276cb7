"""Tier 2 plans for the engine's `t3_after_tier2` rule, registered with tiers.hooks.

A student's Tier 2 plan starts with the first documented support of the school year (an action
whose "support offered" is filled in); its supports are every such action since. The engine
fires the rule when the student is still chronic the policy's weeks after that start, with at
least the policy's number of supports.
"""

import datetime

import pandas as pd
from django.db.models import Count, Min

from districts.models import District
from tiers.hooks import TIER2_PLAN_COLUMNS
from tiers.loading import SchoolYear

from .models import OutreachAction


def tier2_plans_frame(*, district: District, as_of: datetime.date) -> pd.DataFrame:
    year = SchoolYear.containing(district, as_of)
    plans = (
        OutreachAction.objects.filter(district=district, attempt_date__range=(year.start, as_of))
        .exclude(support_offered="")
        .values("student_id")
        .annotate(started=Min("attempt_date"), supports=Count("id"))
        .order_by("student_id")
    )
    frame = pd.DataFrame(list(plans), columns=TIER2_PLAN_COLUMNS)
    frame["started"] = pd.to_datetime(frame["started"])
    return frame.astype({"student_id": "int64", "supports": "int64"})
