from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PulseConfig(AppConfig):
    name = "pulse"
    verbose_name = _("District pulse checks")

    def ready(self):
        # students may not import pulse (apps depend one way): pulse adds its demo chapters.
        from exports.registry import register_export_renderer
        from students.demo_story import register_demo_chapter
        from tiers.hooks import register_after_nightly_run

        from .demo import demo_pulse_review
        from .demo_board import demo_pulse
        from .exports import BOARD_PDF, render_board_pdf
        from .nightly import after_nightly_run

        register_after_nightly_run(after_nightly_run)
        register_export_renderer(BOARD_PDF, render_board_pdf)
        register_demo_chapter("pulse figures", demo_pulse, order=400)
        register_demo_chapter("pulse review", demo_pulse_review, order=410)
