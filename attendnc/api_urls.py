"""District-scoped API routes: /d/<district>/api/… . The schema and its docs page are global."""

from django.urls import path

urlpatterns: list = []
