from django.urls import path

from . import review_views as views

app_name = "pulse_review"

urlpatterns = [
    path("pulse/follow-through/", views.follow_through_page, name="follow_through"),
    path("pulse/follow-through.csv", views.follow_through_csv, name="follow_through_csv"),
    path("pulse/equity/", views.equity_page, name="equity"),
    path("pulse/equity.csv", views.equity_csv, name="equity_csv"),
    path("pulse/data-quality/", views.data_quality_page, name="data_quality"),
    path("pulse/data-quality.csv", views.data_quality_csv, name="data_quality_csv"),
    path("pulse/effectiveness/", views.effectiveness_page, name="effectiveness"),
    path("pulse/effectiveness.csv", views.effectiveness_csv, name="effectiveness_csv"),
]
