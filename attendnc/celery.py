"""The Celery application. Tasks that touch district data subclass districts.tasks.DistrictTask."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")

app = Celery("attendnc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
