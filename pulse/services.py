"""Writes of the pulse app: the pulse checks' dated snapshots, the stored effectiveness figures."""

import datetime

from django.db import transaction

from districts.models import District
from tiers.models import MetricsRun
from tiers.selectors import current_run

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
    was stored for that date (a run redone after a late import).

    Only the current run's date is ever read (pulse.effectiveness.effectiveness_current: the
    review page and the board report), so the figures of every other date are removed here:
    one row a district a night would otherwise pile up for nothing. The row just written stays
    too (a run that has not become current yet, or was superseded, is read if it becomes so)."""
    rows = effectiveness_report(access=None, district=district, run=run)
    with transaction.atomic():
        figures, _created = EffectivenessFigures.objects.update_or_create(
            district=district, as_of=run.as_of, defaults={"rows": [row.as_stored() for row in rows]}
        )
        current = current_run()
        keep = {run.as_of} | ({current.as_of} if current is not None else set())
        EffectivenessFigures.objects.filter(district=district).exclude(as_of__in=keep).delete()
    return figures
