from django.urls import path

from . import views

app_name = "tiers"

urlpatterns = [
    path("policy/", views.policy, name="policy"),
    path("policy/preview/", views.policy_preview, name="policy_preview"),
    path("runs/", views.runs, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run_retry"),
    path("figures/", views.figures, name="figures"),
]
