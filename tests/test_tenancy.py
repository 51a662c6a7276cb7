"""Tenancy fails closed: unscoped queries raise, foreign districts look missing."""

import re

import pytest
from django.apps import apps
from django.urls import reverse
from django_scopes.exceptions import ScopeError

from districts.models import Role, School
from districts.tenancy import district_cache_key, district_fetchall, district_sql, district_storage_path

DISTRICT_OWNED_MODELS = [
    model for model in apps.get_models() if any(field.name == "district" for field in model._meta.fields)
]


def test_there_are_district_owned_models_to_check():
    assert len(DISTRICT_OWNED_MODELS) >= 10


@pytest.mark.parametrize("model", DISTRICT_OWNED_MODELS, ids=lambda model: model._meta.label)
def test_every_district_owned_model_refuses_an_unscoped_query(db, model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


@pytest.mark.parametrize("model", DISTRICT_OWNED_MODELS, ids=lambda model: model._meta.label)
def test_every_district_unique_constraint_includes_the_district(model):
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if fields:
            assert "district" in fields, f"{model._meta.label}.{constraint.name} lacks district"


def test_scoped_query_sees_only_its_own_district(tenant_a, tenant_b, in_scope):
    with in_scope(tenant_a.district):
        names = set(School.objects.values_list("name", flat=True))
    assert names == {"Alpha County Schools Middle", "Alpha County Schools High"}


def test_member_of_another_district_gets_404(tenant_a, tenant_b, login):
    client = login(tenant_b.user(Role.DISTRICT_ADMIN))
    response = client.get(reverse("districts:people", kwargs={"district": tenant_a.district.slug}))
    assert response.status_code == 404


def test_unknown_district_and_foreign_district_look_the_same(tenant_a, tenant_b, login):
    client = login(tenant_b.user(Role.DISTRICT_ADMIN))
    paths = [f"/d/{tenant_a.district.slug}/students/", "/d/no-such-district/students/"]
    foreign, missing = (client.get(path) for path in paths)
    assert foreign.status_code == missing.status_code == 404
    # Each page may echo the path that was asked for (the language switch comes back to it);
    # apart from that and the CSRF token, the two must be byte for byte the same.
    without_tokens = [
        re.sub(rb"[A-Za-z0-9]{64}", b"", r.content.replace(path.encode(), b"<path>"))
        for r, path in zip((foreign, missing), paths)
    ]
    assert without_tokens[0] == without_tokens[1]


def test_anonymous_visitor_is_sent_to_sign_in(tenant_a, client):
    response = client.get(f"/d/{tenant_a.district.slug}/students/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_deactivated_membership_loses_the_district(tenant_a, login, in_scope):
    user = tenant_a.user(Role.DISTRICT_STAFF)
    with in_scope(tenant_a.district):
        user.memberships.update(is_active=False)
    response = login(user).get(f"/d/{tenant_a.district.slug}/schools/")
    assert response.status_code == 404


def test_member_without_the_role_is_refused(tenant_a, login):
    response = login(tenant_a.user(Role.MENTOR)).get(f"/d/{tenant_a.district.slug}/people/")
    assert response.status_code == 403


def test_cache_keys_and_storage_paths_carry_the_district(tenant_a):
    assert district_cache_key(tenant_a.district, "metrics", 3) == f"d:{tenant_a.district.pk}:metrics:3"
    assert (
        district_storage_path(tenant_a.district, "imports", "a.csv")
        == f"districts/{tenant_a.district.pk}/imports/a.csv"
    )
    with pytest.raises(ValueError):
        district_storage_path(tenant_a.district, "..", "etc")


def test_raw_sql_must_filter_on_the_district(tenant_a, tenant_b):
    with pytest.raises(ValueError):
        district_sql(tenant_a.district, "SELECT id FROM districts_school")
    rows = district_fetchall(
        tenant_a.district, "SELECT name FROM districts_school WHERE district_id = %(district_id)s ORDER BY name"
    )
    assert [name for (name,) in rows] == ["Alpha County Schools High", "Alpha County Schools Middle"]
