from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"

    def ready(self):
        # tiers may not import outreach (apps depend one way); it asks through its hook instead.
        from exports.registry import register_export_renderer
        from students.demo_story import register_demo_chapter
        from students.panels import register_student_panel
        from tiers.hooks import register_tier2_plans

        from .demo import play_huddles
        from .exports import render_huddle_pdf
        from .families import demo, tasks  # noqa: F401 - the family messages chapter and the notice tasks
        from .families.letters import LETTERS_RENDERER, render_nudge_letters
        from .student_panel import outreach_panel
        from .tier2_plans import tier2_plans_frame

        register_tier2_plans(tier2_plans_frame)
        register_demo_chapter("huddles", play_huddles, order=200)
        register_export_renderer("outreach.huddle_pdf", render_huddle_pdf)
        register_export_renderer(LETTERS_RENDERER, render_nudge_letters)
        register_student_panel("outreach", "outreach/student_panel.html", outreach_panel, order=20)
