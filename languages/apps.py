from django.apps import AppConfig


class LanguagesConfig(AppConfig):
    """The languages AttendNC speaks: the interface's catalogues, each reader's choice of
    language, and the language a family reads (from the guardian's SIS record)."""

    name = "languages"
    verbose_name = "Languages"
