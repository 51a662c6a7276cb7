"""The Celery base task runs its body inside the district's scope."""

from celery import shared_task
from django_scopes import get_scope

from districts.models import School
from districts.tasks import DistrictTask


@shared_task(base=DistrictTask)
def count_schools(district, prefix):
    assert get_scope()["district"] == district
    return f"{prefix}{School.objects.count()}"


def test_district_task_runs_inside_the_district_scope(tenant_a, tenant_b):
    result = count_schools.delay(tenant_a.district.pk, "schools=")
    assert result.get(timeout=10) == "schools=2"


def test_outside_the_task_the_scope_is_gone(tenant_a):
    count_schools.delay(tenant_a.district.pk, "")
    assert "district" not in get_scope()
