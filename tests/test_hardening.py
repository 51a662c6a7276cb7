"""Smaller safety habits: student pages and exports are never cached, and malformed ids in a
form are a clean 4xx rather than a server error."""

import pytest
from django.urls import reverse

from districts.models import Role


@pytest.mark.parametrize(
    "name, kwargs, role",
    [
        ("outreach:roster", {}, Role.DISTRICT_ADMIN),
        ("students:student_detail", {"student_id": "student"}, Role.DISTRICT_ADMIN),
        ("api:student_list", {}, Role.DISTRICT_ADMIN),
        ("districts:audit_log", {}, Role.DISTRICT_ADMIN),
        ("districts:audit_log_csv", {}, Role.DISTRICT_ADMIN),
        ("outreach:huddle_current", {}, Role.ATTENDANCE_LEAD),
    ],
)
def test_pages_and_exports_with_student_data_are_never_cached(tenant_a, records_a, login, name, kwargs, role):
    kwargs = {key: records_a.student.pk if value == "student" else value for key, value in kwargs.items()}
    response = login(tenant_a.user(role)).get(reverse(name, kwargs={"district": "alpha", **kwargs}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_404_of_a_district_url_is_not_cached_either(tenant_a, login):
    response = login(tenant_a.user(Role.DISTRICT_ADMIN)).get("/d/alpha/students/999999/")
    assert response.status_code == 404 and "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("school", ["", "abc", "1.5", "-3", "99999999999999999999999", "0x10", " 7"])
def test_generating_a_huddle_with_a_malformed_school_id_is_a_clean_4xx(tenant_a, login, school):
    url = reverse("outreach:huddle_generate", kwargs={"district": "alpha"})
    response = login(tenant_a.user(Role.ATTENDANCE_LEAD)).post(url, {"school": school})
    assert 400 <= response.status_code < 500
