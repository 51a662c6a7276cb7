"""The base for every task that works on one district's data."""

from celery import Task

from .models import District
from .tenancy import district_scope


class DistrictTask(Task):
    """Runs the task body inside the district's scope. The first argument is the district id:
    arguments stay plain ids so a task can be retried or replayed from the broker safely."""

    abstract = True

    def __call__(self, district_id: int, *args, **kwargs):
        district = District.objects.get(pk=district_id)
        with district_scope(district):
            return super().__call__(district, *args, **kwargs)
