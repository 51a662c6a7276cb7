from django.urls import path

from . import views

app_name = "students"

urlpatterns = [
    path("students/", views.roster, name="roster"),
    path("students/<int:student_id>/", views.student_detail, name="student_detail"),
    path("schools/", views.schools, name="schools"),
    path("mentors/", views.mentors, name="mentors"),
]
