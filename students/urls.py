from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "students"

urlpatterns = [
    # One roster: the roster with risk (outreach:roster) has this page's search, school and grade
    # filters under the same names, so the query string carries over as it is.
    path(
        "students/",
        RedirectView.as_view(pattern_name="outreach:roster", query_string=True, permanent=True),
        name="roster",
    ),
    path("students/<int:student_id>/", views.student_detail, name="student_detail"),
    path("schools/", views.schools, name="schools"),
    path("mentors/", views.mentors, name="mentors"),
]
