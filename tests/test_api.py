"""The district API: who sees which schools and students, the audit trail, tokens, the schema."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from knox.models import AuthToken
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from districts.api import DistrictAPIMixin
from districts.models import AuditEvent, Role

from .factories import PASSWORD


def api(district, name, **kwargs):
    return reverse(f"api:{name}", kwargs={"district": district.slug, **kwargs})


def sis_ids(response):
    assert response.status_code == 200, response.content
    return {row["sis_id"] for row in response.json()["results"]}


def test_member_sees_only_their_districts_schools(tenant_a, tenant_b, login):
    response = login(tenant_a.user(Role.DISTRICT_STAFF)).get(api(tenant_a.district, "school_list"))
    assert {row["name"] for row in response.json()["results"]} == {tenant_a.school.name, tenant_a.other_school.name}


def test_lead_sees_only_their_own_schools(tenant_a, tenant_b, login):
    response = login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(api(tenant_a.district, "school_list"))
    assert [row["id"] for row in response.json()["results"]] == [tenant_a.school.pk]


@pytest.mark.parametrize("role", [Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF])
def test_district_roles_see_every_student_of_their_district_only(role, tenant_a, records_a, records_b, login):
    response = login(tenant_a.user(role)).get(api(tenant_a.district, "student_list"))
    assert sis_ids(response) == {"A-1", "A-2", "A-3"}


@pytest.mark.parametrize("role", [Role.ATTENDANCE_LEAD, Role.COUNSELOR])
def test_school_roles_see_only_students_of_their_school(role, tenant_a, records_a, records_b, login):
    response = login(tenant_a.user(role)).get(api(tenant_a.district, "student_list"))
    assert sis_ids(response) == {"A-1"}


def test_mentor_sees_only_assigned_students(tenant_a, records_a, records_b, login):
    response = login(tenant_a.user(Role.MENTOR)).get(api(tenant_a.district, "student_list"))
    assert sis_ids(response) == {"A-2"}


def test_student_list_filters_by_school_grade_and_name(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    url = api(tenant_a.district, "student_list")
    assert sis_ids(client.get(url, {"school": tenant_a.other_school.pk})) == {"A-2"}
    assert sis_ids(client.get(url, {"grade": "7"})) == {"A-1", "A-3"}
    assert sis_ids(client.get(url, {"q": "rivera"})) == {"A-1"}
    assert sis_ids(client.get(url, {"q": "A-3"})) == {"A-3"}


def test_school_filter_outside_the_callers_view_is_refused_like_a_missing_one(tenant_a, tenant_b, records_a, login):
    url = api(tenant_a.district, "student_list")
    lead = login(tenant_a.user(Role.ATTENDANCE_LEAD))
    other_school = lead.get(url, {"school": tenant_a.other_school.pk})
    foreign_school = lead.get(url, {"school": tenant_b.school.pk})
    missing_school = lead.get(url, {"school": 999999})
    assert other_school.status_code == foreign_school.status_code == missing_school.status_code == 400
    assert list(foreign_school.json()) == list(missing_school.json()) == ["school"]


def test_student_list_is_paginated(tenant_a, records_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    first = client.get(api(tenant_a.district, "student_list"), {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None


def test_student_detail_has_enrollments_and_guardians_and_is_audited(tenant_a, records_a, login, in_scope):
    user = tenant_a.user(Role.ATTENDANCE_LEAD)
    response = login(user).get(api(tenant_a.district, "student_detail", student_id=records_a.student.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["sis_id"] == "A-1"
    assert [e["school"] for e in body["enrollments"]] == [{"id": tenant_a.school.pk, "name": tenant_a.school.name}]
    assert [g["name"] for g in body["guardians"]] == ["Maria Rivera"]
    with in_scope(tenant_a.district):
        event = AuditEvent.objects.get()
    assert (event.user, event.action, event.object_type, event.object_id) == (
        user,
        AuditEvent.Action.VIEW,
        "student",
        str(records_a.student.pk),
    )
    assert event.object_label == f"{records_a.student.full_name} (A-1)"
    assert event.path.startswith(f"/d/{tenant_a.district.slug}/api/students/")


@pytest.mark.parametrize(
    "role, student", [(Role.ATTENDANCE_LEAD, "other_student"), (Role.MENTOR, "student"), (Role.MENTOR, "unenrolled")]
)
def test_student_outside_the_callers_view_is_404_and_not_audited(role, student, tenant_a, records_a, login, in_scope):
    student_id = getattr(records_a, student).pk
    response = login(tenant_a.user(role)).get(api(tenant_a.district, "student_detail", student_id=student_id))
    missing = login(tenant_a.user(role)).get(api(tenant_a.district, "student_detail", student_id=999999))
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    with in_scope(tenant_a.district):
        assert not AuditEvent.objects.exists()


def test_me_lists_the_callers_roles_and_schools(tenant_a, login):
    response = login(tenant_a.user(Role.COUNSELOR)).get(api(tenant_a.district, "me"))
    assert response.status_code == 200
    me = response.json()
    assert me["email"] == f"counselor@{tenant_a.district.slug}.example.org"
    assert me["district"]["slug"] == tenant_a.district.slug
    assert me["roles"] == ["counselor"]
    assert me["grants"] == [
        {"role": "counselor", "label": "Counselor", "school": {"id": tenant_a.school.pk, "name": tenant_a.school.name}}
    ]
    assert me["sees_all_schools"] is False


def test_anonymous_client_gets_401_asking_for_a_token(tenant_a, client):
    response = client.get(api(tenant_a.district, "student_list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_and_foreign_district_look_the_same(tenant_a, tenant_b, login, client):
    missing_url = reverse("api:me", kwargs={"district": "no-such-district"})
    assert client.get(missing_url).status_code == client.get(api(tenant_a.district, "me")).status_code == 401
    outsider = login(tenant_b.user(Role.DISTRICT_ADMIN))
    foreign, missing = outsider.get(api(tenant_a.district, "me")), outsider.get(missing_url)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_deactivated_membership_loses_the_api(tenant_a, login, in_scope):
    user = tenant_a.user(Role.DISTRICT_STAFF)
    with in_scope(tenant_a.district):
        user.memberships.update(is_active=False)
    assert login(user).get(api(tenant_a.district, "school_list")).status_code == 404


class AdminOnlyProbe(DistrictAPIMixin, APIView):
    required_roles = (Role.DISTRICT_ADMIN,)
    permission_classes = [AllowAny]  # a careless subclass: the mixin keeps its checks anyway

    def get(self, request):
        return Response({"district": request.access.district.slug})


def probe(user, district, in_scope):
    request = APIRequestFactory().get("/probe/")
    force_authenticate(request, user=user)
    request.district = district
    with in_scope(district):
        return AdminOnlyProbe.as_view()(request)


def test_required_roles_give_403_to_members_without_them(tenant_a, in_scope):
    assert probe(tenant_a.user(Role.DISTRICT_ADMIN), tenant_a.district, in_scope).data == {"district": "alpha"}
    for role in (Role.DISTRICT_STAFF, Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR):
        assert probe(tenant_a.user(role), tenant_a.district, in_scope).status_code == 403


def test_a_subclass_cannot_drop_the_membership_check(tenant_a, tenant_b, in_scope):
    assert probe(tenant_b.user(Role.DISTRICT_ADMIN), tenant_a.district, in_scope).status_code == 404


def obtain_token(client, email, password):
    return client.post(reverse("api_token"), {"email": email, "password": password}, content_type="application/json")


def test_token_obtained_with_email_and_password_authenticates(tenant_a, client):
    user = tenant_a.user(Role.DISTRICT_STAFF)
    response = obtain_token(client, user.email.upper(), PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    stored = AuthToken.objects.get(user=user)
    assert key not in (stored.digest, stored.token_key) and key.startswith(stored.token_key)  # only a digest is kept
    assert stored.expiry.date() == (timezone.now() + datetime.timedelta(days=90)).date()
    me = client.get(api(tenant_a.district, "me"), headers={"Authorization": f"Token {key}"})
    assert me.status_code == 200 and me.json()["email"] == user.email
    second = obtain_token(client, user.email, PASSWORD).json()["token"]
    assert second != key  # a second client gets its own token, and the first keeps working
    assert client.get(api(tenant_a.district, "me"), headers={"Authorization": f"Token {key}"}).status_code == 200


def test_token_refused_for_a_wrong_password(tenant_a, client):
    response = obtain_token(client, tenant_a.user(Role.MENTOR).email, "not-the-password")
    assert response.status_code == 400
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


def test_token_endpoint_is_throttled_like_the_sign_in_form(tenant_a, client, settings):
    settings.LOGIN_RATE_LIMIT = "3/5m"
    user = tenant_a.user(Role.MENTOR)
    assert [obtain_token(client, user.email, "wrong-guess").status_code for _ in range(3)] == [400] * 3
    locked = obtain_token(client, user.email, PASSWORD)
    assert locked.status_code == 429
    assert not AuthToken.objects.exists()
    form = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert form.status_code == 429  # the same counter: guesses cannot alternate between the two doors


def test_sign_in_form_failures_lock_the_token_endpoint(tenant_a, client, settings):
    settings.LOGIN_RATE_LIMIT = "2/5m"
    user = tenant_a.user(Role.MENTOR)
    for _ in range(2):
        client.post(reverse("login"), {"username": user.email, "password": "wrong-guess"})
    assert obtain_token(client, user.email, PASSWORD).status_code == 429


def test_inactive_user_gets_no_token_and_their_token_stops_working(tenant_a, client):
    user = tenant_a.user(Role.DISTRICT_STAFF)
    key = obtain_token(client, user.email, PASSWORD).json()["token"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert obtain_token(client, user.email, PASSWORD).status_code == 400
    assert client.get(api(tenant_a.district, "me"), headers={"Authorization": f"Token {key}"}).status_code == 401


def test_schema_is_valid_openapi_listing_the_district_routes(tenant_a, login):
    response = login(tenant_a.user(Role.MENTOR)).get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert {
        "/api/token/",
        "/d/{district}/api/me/",
        "/d/{district}/api/schools/",
        "/d/{district}/api/students/",
        "/d/{district}/api/students/{student_id}/",
    } <= set(schema["paths"])
    assert {"knoxApiToken", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_generates_without_warnings():
    """A warning (an enum name collision, an unresolvable serializer) means API clients get
    generated names like StatusE46Enum that change whenever another app adds a choice."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", stdout=io.StringIO())


def test_schema_and_docs_need_a_signed_in_user(client):
    assert client.get(reverse("api_schema")).status_code == 401
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 302 and docs["Location"].startswith(reverse("login"))


def test_docs_page_runs_swagger_ui_from_local_static_files_under_the_csp(tenant_a, login):
    response = login(tenant_a.user(Role.MENTOR)).get(reverse("api_docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert 'src="/static/js/api-docs.js"' in html
    assert "<script>" not in html and "<style" not in html and "//cdn" not in html
    assert f'data-schema-url="{reverse("api_schema")}"' in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
