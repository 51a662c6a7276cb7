"""Writes of the pulse app: the pulse checks' dated snapshots, the stored effectiveness figures."""

import datetime

from django.db import transaction

from districts.models import District
from tiers.models import MetricsRun

from .checks import CHECKPOINTS, pulse_check_rows, school_year_label, school_year_of
from .effectiveness import effectiveness_report
from .models import EffectivenessFigures, PulseCheck


def pulse_checks_take(*, district: District, as_of: datetime.date, replace: bool = False) -> dict[int, int]:
    """Count the week-2 and week-4 checks of the school year holding `as_of` whose windows have
    passed and store them; a check already stored is kept unless `replace` (a backfill after a
    late import). Returns {checkpoint: rows written}."""
    year = school_year_of(district, as_of)
    label = school_year_label(year)
    written = {}
    for checkpoint in CHECKPOINTS:
        stored = PulseCheck.objects.filter(school_year=label, checkpoint=checkpoint)
        if stored.exists() and not replace:
            continue
        rows = pulse_check_rows(district=district, year=year, checkpoint=checkpoint, as_of=as_of)
        if rows is None:
            continue
        with transaction.atomic():
            stored.delete()
            PulseCheck.objects.bulk_create(
                [
                    PulseCheck(
                        district=district, school_year=label, checkpoint=checkpoint, school_id=row.school_id,
                        grade=row.grade, window_start=row.window_start, window_end=row.window_end,
                        students=row.students, two_or_more=row.two_or_more, taken_on=as_of,
                    )
                    for row in rows
                ]
            )  # fmt: skip
        written[checkpoint] = len(rows)
    return written


def effectiveness_figures_store(*, district: District, run: MetricsRun) -> EffectivenessFigures:
    """Intervention effectiveness for the whole district through the run's date, replacing what
    was stored for that date (a run redone after a late import)."""
    rows = effectiveness_report(access=None, district=district, run=run)
    figures, _created = EffectivenessFigures.objects.update_or_create(
        district=district, as_of=run.as_of, defaults={"rows": [row.as_stored() for row in rows]}
    )
    return figures
