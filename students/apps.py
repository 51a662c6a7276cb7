from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = "Students and attendance"

    def ready(self):
        from districts.audit import StudentDirectory, register_student_directory

        from . import selectors

        register_student_directory(
            StudentDirectory(search=selectors.audit_student_search, labels=selectors.audit_student_labels)
        )
