from django.urls import path

from . import support_views as views

app_name = "support"

# Each form of a request's page posts to the page naming itself (`form`), so every route stays
# walkable by the isolation matrix.
urlpatterns = [
    path("support/", views.support_list, name="list"),
    path("support/support-requests.csv", views.support_csv, name="csv"),
    path("support/new/", views.support_new, name="new"),
    path("support/<int:support_request_id>/", views.support_detail, name="detail"),
]
