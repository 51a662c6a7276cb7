from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PulseConfig(AppConfig):
    name = "pulse"
    verbose_name = _("District pulse checks")

    def ready(self):
        from tiers.hooks import register_after_nightly_run

        from .nightly import after_nightly_run

        register_after_nightly_run(after_nightly_run)
