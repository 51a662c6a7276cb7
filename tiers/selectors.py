"""Reads of stored results; all of them follow the district's current run."""

from django.db.models import QuerySet

from .models import Flag, MetricsRun, StudentMetrics


def current_run() -> MetricsRun | None:
    return MetricsRun.objects.filter(is_current=True).select_related("policy").first()


def student_metrics_current() -> QuerySet[StudentMetrics]:
    return StudentMetrics.objects.filter(run__is_current=True)


def flag_list_open() -> QuerySet[Flag]:
    return Flag.objects.filter(status__in=Flag.OPEN_STATUSES)
