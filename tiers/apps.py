from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "tiers"
    verbose_name = "Tiers and flags"

    def ready(self):
        # The student page lives in students, which must not import tiers: tiers adds its panel.
        from students.panels import register_student_panel

        from .student_panel import attendance_panel

        register_student_panel("attendance", "tiers/student_panel.html", attendance_panel, order=10)
