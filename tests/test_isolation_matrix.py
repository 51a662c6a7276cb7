"""Every route under /d/<district>/, pages and API, walked as someone who must not get in.

Routes are discovered from the URL resolver, so a new page or endpoint joins the matrix by
existing. Its URL kwargs are filled from district A's rows through OBJECT_KWARGS: a kwarg missing
there fails the test, which is the reminder to register the new route's object. Each request is
checked for its status and for its side effects: the whole database, every model's rows, must be
the same afterwards and no audit event written.
"""

import dataclasses
import re

import pytest
from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scopes_disabled

from districts.api import DistrictAPIMixin
from districts.models import AuditEvent, Role

from .accounts_support import invitation_of
from .api_tokens import token_for
from .cases_records import case_records
from .district_data import mentor_assignment_of
from .export_support import export_job_of
from .family_records import family_records
from .import_support import import_objects_of
from .outreach_records import outreach_records
from .support_records import support_request_of
from .tiers_data import metrics_run_of


def school_of(records) -> int:
    """The school of the district's first enrolled student."""
    with scopes_disabled():
        return records.student.enrollments.order_by("pk").first().school_id


DISTRICT_PREFIX = "d/<slug:district>/"
API_PREFIX = DISTRICT_PREFIX + "api/"
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")

# URL kwarg → the district's row it names. A new route with a new kwarg registers it here.
OBJECT_KWARGS = {
    "district": lambda records: records.district.slug,
    "student_id": lambda records: records.student.pk,
    "grant_id": lambda records: records.grant.pk,
    "run_id": lambda records: metrics_run_of(records.district),
    "import_run_id": lambda records: import_objects_of(records.district)[0].pk,
    "mapping_id": lambda records: import_objects_of(records.district)[1].pk,
    "huddle_id": lambda records: outreach_records(records).huddle.pk,
    "row_id": lambda records: outreach_records(records).row.pk,
    "action_id": lambda records: outreach_records(records).action.pk,
    "job_id": lambda records: export_job_of(records).pk,
    "part": lambda records: 0,  # the first piece of the job's export
    "template_id": lambda records: family_records(records)[0].pk,
    "case_id": lambda records: case_records(records).case.pk,
    "referral_id": lambda records: case_records(records).referral.pk,
    "partner_id": lambda records: case_records(records).partner.pk,
    "membership_id": lambda records: records.grant.membership_id,
    "invitation_id": lambda records: invitation_of(records).pk,
    "assignment_id": lambda records: mentor_assignment_of(records).pk,
    "school_id": lambda records: school_of(records),
    "support_request_id": lambda records: support_request_of(records).pk,
}


@dataclasses.dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "d/<slug:district>/students/<int:student_id>/"
    callback: object

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith(API_PREFIX)

    @property
    def kwargs(self) -> list[str]:
        return [match["name"] for match in PARAMETER.finditer(self.pattern)]

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def required_roles(self) -> tuple[str, ...]:
        return tuple(getattr(self.view_class or self.callback, "required_roles", ()))

    def url(self, records, **overrides) -> str:
        def fill(match):
            name = match["name"]
            if name in overrides:
                return str(overrides[name])
            if name not in OBJECT_KWARGS:
                pytest.fail(f"{self.pattern}: register URL kwarg {name!r} in OBJECT_KWARGS")
            return str(OBJECT_KWARGS[name](records))

        if set(self.pattern) & set("^$()[]?*+\\"):
            pytest.fail(f"{self.pattern}: a regex route; use path() so the matrix can fill it in")
        return "/" + PARAMETER.sub(fill, self.pattern)


def discover_district_routes() -> list[Route]:
    routes = []

    def walk(patterns, prefix):
        for entry in patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, pattern)
            elif isinstance(entry, URLPattern) and pattern.startswith("d/"):
                routes.append(Route(pattern, entry.callback))

    walk(get_resolver().url_patterns, "")
    return routes


ROUTES = discover_district_routes()
API_ROUTES = [route for route in ROUTES if route.is_api]
ROLE_GATED_ROUTES = [route for route in ROUTES if route.required_roles]
OBJECT_ROUTES = [route for route in ROUTES if set(route.kwargs) - {"district"}]
METHODS = ["get", "post"]


def route_id(route: Route) -> str:
    return route.pattern.removeprefix(DISTRICT_PREFIX) or "(home)"


# The session's own bookkeeping (districts.sessions notes the time of each visit) is not data.
NOT_DATA = {"sessions.Session"}


def database_snapshot() -> dict[str, object]:
    """Every row of every model, so an update shows as well as an insert or a delete. On
    PostgreSQL one query reads a digest of each table's rows (the walk sends thousands of
    requests); elsewhere the rows themselves."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)  # many-to-many tables too
        if not model._meta.proxy and model._meta.label not in NOT_DATA
    ]
    if connection.vendor == "postgresql":
        return _table_digests(models)
    with scopes_disabled():
        return {model._meta.label: sorted(map(repr, model._base_manager.values_list())) for model in models}


def _table_digests(models) -> dict[str, str]:
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {quote(model._meta.db_table)} t"
        for model in models
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.label for model in models])
        return dict(cursor.fetchall())


def audit_event_count() -> int:
    with scopes_disabled():
        return AuditEvent.objects.count()


def request_leaves_no_trace(client, method, url, **extra):
    before = database_snapshot()
    response = getattr(client, method)(url, **extra)
    assert audit_event_count() == 0, f"{method.upper()} {url} wrote an audit event"
    after = database_snapshot()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"{method.upper()} {url} changed {changed}"
    return response


# --- the route list itself ------------------------------------------------------------------


def test_the_matrix_discovers_pages_and_api_routes():
    patterns = {route.pattern for route in ROUTES}
    assert len(ROUTES) >= 10
    assert {
        "d/<slug:district>/",
        "d/<slug:district>/people/",
        "d/<slug:district>/students/<int:student_id>/",
        API_PREFIX + "me/",
        API_PREFIX + "schools/",
        API_PREFIX + "students/",
        API_PREFIX + "students/<int:student_id>/",
    } <= patterns
    assert len(API_ROUTES) >= 4


def test_every_district_route_names_its_district_first():
    assert all(route.pattern.startswith(DISTRICT_PREFIX) for route in ROUTES)


def test_every_route_kwarg_is_registered():
    unregistered = {(route.pattern, name) for route in ROUTES for name in route.kwargs if name not in OBJECT_KWARGS}
    assert not unregistered, f"register these URL kwargs in OBJECT_KWARGS: {sorted(unregistered)}"


def test_every_api_view_uses_the_district_base():
    bare = [route.pattern for route in API_ROUTES if not issubclass(route.view_class or object, DistrictAPIMixin)]
    assert not bare, f"derive these from districts.api.DistrictAPIMixin: {bare}"


def test_admin_only_pages_are_role_gated():
    gated = {route.pattern for route in ROLE_GATED_ROUTES}
    assert {DISTRICT_PREFIX + "people/", DISTRICT_PREFIX + "audit/"} <= gated


# --- another district's members ------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_other_districts_member_gets_404_and_changes_nothing(route, role, method, tenant_a, tenant_b, records_a, login):
    client = login(tenant_b.user(role))
    response = request_leaves_no_trace(client, method, route.url(records_a))
    assert response.status_code == 404


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_other_districts_token_user_gets_404_and_changes_nothing(
    route, role, method, tenant_a, tenant_b, records_a, client
):
    token = token_for(tenant_b.user(role))
    response = request_leaves_no_trace(
        client, method, route.url(records_a), headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=route_id)
def test_own_district_url_with_another_districts_object_gets_404(
    route, role, method, tenant_a, tenant_b, records_a, records_b, login
):
    """B's own URL carrying A's ids: the scope, not the URL, must keep A's rows out of reach."""
    client = login(tenant_b.user(role))
    response = request_leaves_no_trace(client, method, route.url(records_a, district=tenant_b.district.slug))
    allowed = {404, 405}  # 405: the route refuses the method before looking anything up
    if route.required_roles and role not in route.required_roles:
        allowed.add(403)  # refused for the role before any object is looked up
    assert response.status_code in allowed


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_anonymous_visitor_is_asked_to_sign_in(route, method, tenant_a, records_a, client):
    response = request_leaves_no_trace(client, method, route.url(records_a))
    if route.is_api:
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# PATCH, on every route that answers it (the API's detail endpoints): another district's member,
# by session or token, with their own district's URL or A's, gets 404 and changes nothing.
PATCH_ROUTES = [route for route in API_ROUTES if callable(getattr(route.view_class, "patch", None))]


def _patch(client, url, **extra):
    return request_leaves_no_trace(
        client, "patch", url, data={"outcome": "x", "goal_rate": "0.9"}, content_type="application/json", **extra
    )


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("route", PATCH_ROUTES, ids=route_id)
def test_patch_by_another_districts_member_gets_404_and_changes_nothing(
    route, role, tenant_a, tenant_b, records_a, records_b, login
):
    client = login(tenant_b.user(role))
    assert _patch(client, route.url(records_a)).status_code == 404
    response = _patch(client, route.url(records_a, district=tenant_b.district.slug))
    allowed = {404}
    if route.required_roles and role not in route.required_roles:
        allowed.add(403)
    assert response.status_code in allowed
    token = token_for(tenant_b.user(role))
    client.logout()
    assert _patch(client, route.url(records_a), headers={"Authorization": f"Token {token}"}).status_code == 404


@pytest.mark.parametrize("route", PATCH_ROUTES, ids=route_id)
def test_patch_by_an_anonymous_caller_is_401(route, tenant_a, records_a, client):
    assert _patch(client, route.url(records_a)).status_code == 401


def test_the_patch_routes_include_the_cases_api():
    patterns = {route.pattern for route in PATCH_ROUTES}
    assert {API_PREFIX + "cases/<int:case_id>/", API_PREFIX + "cases/<int:case_id>/referrals/<int:referral_id>/"} <= (
        patterns
    )


# PUT, PATCH and DELETE on every route, pages and API alike (most answer only GET and POST: a
# view that read any other method as a write would show here), with a body naming A's rows.
OTHER_METHODS = ["put", "patch", "delete"]


def _body_of_a(records) -> dict:
    cases = case_records(records)
    return {
        "student": records.student.pk, "school": records.student.enrollments.first().school_id,
        "lead": records.grant.membership_id, "owner": records.grant.membership_id, "partner": cases.partner.pk,
        "flag": None, "outcome": "x", "goal_rate": "0.9", "connected_on": "2025-11-10", "discussed": True,
    }  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_put_patch_and_delete_by_another_districts_members_get_404_and_change_nothing(
    route, tenant_a, tenant_b, records_a, records_b, client
):
    with scopes_disabled():
        body = _body_of_a(records_a)
    for role in Role.values:
        client.force_login(tenant_b.user(role))
        for method in OTHER_METHODS:
            where = f"{method.upper()} {route.pattern} as B's {role}"
            response = request_leaves_no_trace(client, method, route.url(records_a), data=body, content_type=JSON)
            assert response.status_code == 404, where
            if route in OBJECT_ROUTES:  # B's own URL carrying A's ids
                own_url = route.url(records_a, district=tenant_b.district.slug)
                response = request_leaves_no_trace(client, method, own_url, data=body, content_type=JSON)
                allowed = {404, 405} | ({403} if route.required_roles and role not in route.required_roles else set())
                assert response.status_code in allowed, f"{where}, B's URL: {response.status_code}"
        if route.is_api:
            client.logout()
            token = {"Authorization": f"Token {token_for(tenant_b.user(role))}"}
            for method in OTHER_METHODS:
                response = request_leaves_no_trace(
                    client, method, route.url(records_a), data=body, content_type=JSON, headers=token
                )
                assert response.status_code == 404, f"{method.upper()} {route.pattern} with B's {role}'s token"
        client.logout()
    for method in OTHER_METHODS:
        response = request_leaves_no_trace(client, method, route.url(records_a), data=body, content_type=JSON)
        if route.is_api:
            assert response.status_code == 401, f"anonymous {method.upper()} {route.pattern}"
        else:
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


JSON = "application/json"


# --- members of the district whose role lacks the permission -------------------------------


def _role_gated_cases():
    return [
        pytest.param(route, role, id=f"{route_id(route)}-{role}")
        for route in ROLE_GATED_ROUTES
        for role in Role.values
        if role not in route.required_roles
    ]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route, role", _role_gated_cases())
def test_member_without_the_role_is_refused_and_changes_nothing(route, role, method, tenant_a, records_a, login):
    client = login(tenant_a.user(role))
    response = request_leaves_no_trace(client, method, route.url(records_a))
    # 405 is a POST-only route answering GET before it reads anything.
    assert response.status_code in {403, 404, 405}
