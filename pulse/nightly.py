"""The pulse app's share of the nightly run (registered with tiers.hooks in PulseConfig.ready):
the dashboard's figures computed and cached before anyone opens the page, the week-2 and
week-4 pulse checks stored the night their window has passed, and intervention effectiveness
stored for the run's date (its windows read every supported student's attendance)."""

from districts.models import District
from tiers.models import MetricsRun

from .board import board_get
from .services import effectiveness_figures_store, pulse_checks_take


def after_nightly_run(*, district: District, run: MetricsRun) -> None:
    pulse_checks_take(district=district, as_of=run.as_of)
    board_get(district=district, run=run)
    effectiveness_figures_store(district=district, run=run)
