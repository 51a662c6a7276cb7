"""The pulse app's share of the nightly run (registered with tiers.hooks in PulseConfig.ready):
the dashboard's figures computed and cached before anyone opens the page, and the week-2 and
week-4 pulse checks stored the night their window has passed."""

from districts.models import District
from tiers.models import MetricsRun

from .board import board_get
from .services import pulse_checks_take


def after_nightly_run(*, district: District, run: MetricsRun) -> None:
    pulse_checks_take(district=district, as_of=run.as_of)
    board_get(district=district, run=run)
