"""The Celery task runs an import inside its district's scope, by ids, and only once."""

from django_scopes import get_scope, scope

from imports import services
from imports.models import ImportRun
from imports.tasks import import_run_execute
from students.models import AttendanceRecord

from .import_support import FIXTURES, _media_in_tmp  # noqa: F401


def _queued(district):
    with scope(district=district):
        return services.import_run_create(district=district, format="csv", path=FIXTURES / "canonical")


def test_the_task_imports_by_ids_inside_the_district_scope(tenant_a, tenant_b):
    run = _queued(tenant_a.district)

    status = import_run_execute.delay(tenant_a.district.pk, run.pk).get(timeout=30)

    assert status == ImportRun.Status.SUCCEEDED
    assert "district" not in get_scope()
    with scope(district=tenant_a.district):
        assert AttendanceRecord.objects.count() == 10
    with scope(district=tenant_b.district):
        assert not AttendanceRecord.objects.exists()


def test_a_redelivered_task_leaves_a_finished_run_alone(tenant_a):
    run = _queued(tenant_a.district)
    import_run_execute.delay(tenant_a.district.pk, run.pk).get(timeout=30)
    with scope(district=tenant_a.district):
        finished_at = ImportRun.objects.get(pk=run.pk).finished_at

    import_run_execute.delay(tenant_a.district.pk, run.pk).get(timeout=30)

    with scope(district=tenant_a.district):
        assert ImportRun.objects.get(pk=run.pk).finished_at == finished_at
        assert ImportRun.objects.count() == 1


def test_a_run_of_another_district_is_not_found_by_the_task(tenant_a, tenant_b):
    run = _queued(tenant_a.district)

    try:
        import_run_execute.delay(tenant_b.district.pk, run.pk).get(timeout=30)
    except ImportRun.DoesNotExist:
        pass
    else:
        raise AssertionError("the task ran another district's import")
    with scope(district=tenant_a.district):
        assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.QUEUED
