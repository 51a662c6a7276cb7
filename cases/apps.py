from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Tier 3 cases"

    def ready(self):
        # students may not import cases (apps depend one way): cases adds its panel and its demo chapter.
        from exports.registry import register_export_renderer
        from students.demo_story import register_demo_chapter
        from students.panels import register_student_panel

        from .demo import demo_cases
        from .exports import RENDERER, render_case_pdf
        from .student_panel import case_panel

        register_export_renderer(RENDERER, render_case_pdf)
        register_student_panel("cases", "cases/student_panel.html", case_panel, order=30)
        register_demo_chapter("cases", demo_cases, order=300)
