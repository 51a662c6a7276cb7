from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("exports/<int:job_id>/", views.job_detail, name="job_detail"),
    path("exports/<int:job_id>/download/", views.job_download, name="job_download"),
    path("exports/<int:job_id>/parts/<int:part>/", views.job_part_download, name="job_part_download"),
    path("exports/<int:job_id>/retry/", views.job_retry, name="job_retry"),
]
