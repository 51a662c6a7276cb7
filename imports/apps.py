from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "SIS imports"

    def ready(self):
        from students.demo_story import register_demo_chapter

        from .demo import play_imports

        register_demo_chapter("imports", play_imports, order=150)
