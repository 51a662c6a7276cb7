"""The pulse app's share of the nightly run (registered with tiers.hooks in PulseConfig.ready):
the dashboard's figures computed and cached before anyone opens the page."""

from districts.models import District
from tiers.models import MetricsRun

from .board import board_get


def after_nightly_run(*, district: District, run: MetricsRun) -> None:
    board_get(district=district, run=run)
