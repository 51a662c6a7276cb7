from django.urls import path

from . import views

app_name = "pulse"

urlpatterns = [
    path("pulse/", views.dashboard, name="dashboard"),
    path("pulse/groups/", views.groups, name="groups"),
    path("pulse/groups.csv", views.groups_csv, name="groups_csv"),
    path("pulse/schools/<int:school_id>/", views.school, name="school"),
    path("pulse/checks/", views.checks, name="checks"),
    path("pulse/checks.csv", views.checks_csv, name="checks_csv"),
    path("pulse/report.pdf", views.board_pdf, name="board_pdf"),
    path("pulse/min-cell/", views.min_cell_update, name="min_cell_update"),
]
