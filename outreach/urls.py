from django.urls import path

from . import roster_views, views
from .families.urls import urlpatterns as family_patterns

app_name = "outreach"

urlpatterns = [
    path("roster/", roster_views.roster, name="roster"),
    path("roster/students.csv", roster_views.roster_csv, name="roster_csv"),
    path("huddle/", views.huddle_current, name="huddle_current"),
    path("huddle/generate/", views.huddle_generate_now, name="huddle_generate"),
    path("huddles/<int:huddle_id>/", views.huddle_detail, name="huddle_detail"),
    path("huddles/<int:huddle_id>/attendance/", views.huddle_attendance, name="huddle_attendance"),
    path("huddles/<int:huddle_id>/huddle.pdf", views.huddle_pdf, name="huddle_pdf"),
    path("huddles/<int:huddle_id>/huddle.csv", views.huddle_csv, name="huddle_csv"),
    path("huddles/rows/<int:row_id>/", views.huddle_row, name="huddle_row"),
    path("huddles/rows/<int:row_id>/discussed/", views.huddle_row_discussed, name="huddle_row_discussed"),
    path("huddles/rows/<int:row_id>/plan/", views.huddle_row_plan, name="huddle_row_plan"),
    path("huddles/rows/<int:row_id>/actions/", views.huddle_row_action, name="huddle_row_action"),
    path("huddles/rows/<int:row_id>/escalate/", views.huddle_row_escalate, name="huddle_row_escalate"),
    path("huddles/rows/<int:row_id>/resolve/", views.huddle_row_resolve, name="huddle_row_resolve"),
    path("huddles/rows/<int:row_id>/keep-open/", views.huddle_row_keep_open, name="huddle_row_keep_open"),
    path("huddles/rows/<int:row_id>/keep-in-tier2/", views.huddle_row_keep_tier2, name="huddle_row_keep_tier2"),
    path("students/<int:student_id>/timeline/", views.student_timeline, name="student_timeline"),
    path("students/<int:student_id>/actions/", views.student_action_create, name="student_action_create"),
    *family_patterns,
]
