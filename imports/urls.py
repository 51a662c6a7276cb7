from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.index, name="index"),
    path("imports/<int:import_run_id>/", views.run_detail, name="run_detail"),
    path("imports/<int:import_run_id>/confirm/", views.run_confirm, name="run_confirm"),
    path("imports/<int:import_run_id>/undo/", views.run_undo, name="run_undo"),
    path("imports/<int:import_run_id>/retry/", views.run_retry, name="run_retry"),
    path("imports/codes/", views.codes, name="codes"),
    path("imports/replay/", views.replay, name="replay"),
    path("imports/held/", views.held_rows, name="held"),
    path("imports/held/csv/", views.held_csv, name="held_csv"),
    path("imports/held/discard/", views.held_discard, name="held_discard"),
    path("imports/schools/", views.unknown_schools, name="unknown_schools"),
    path("imports/mappings/", views.mappings, name="mappings"),
    path("imports/mappings/<int:mapping_id>/", views.mapping_edit, name="mapping_edit"),
    path("imports/health/", views.health, name="health"),
]
