"""Shared fixtures: every test module gets two districts, each with a school and one user per
role, so any test can check that district B's people never reach district A's data."""

import dataclasses

import pytest
from django.conf import settings
from django_scopes import scope, scopes_disabled

from districts.models import Role

from .district_data import district_records
from .factories import PASSWORD, DistrictFactory, RoleGrantFactory, SchoolFactory, UserFactory


def pytest_sessionstart(session):
    """Translations are read from .mo files built from the committed .po (docs/translations.md)."""
    from languages.catalog import compile_stale_catalogues

    compile_stale_catalogues()


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    note = "" if engine == "postgresql" else " (PostgreSQL not configured: DATABASE_URL unset or sqlite)"
    return f"attendnc: database={engine}{note}, celery broker={broker}, eager={settings.CELERY_TASK_ALWAYS_EAGER}"


@dataclasses.dataclass
class Tenant:
    district: object
    school: object
    other_school: object
    users: dict  # role -> user

    def user(self, role: str):
        return self.users[role]


def _tenant(slug: str, name: str) -> Tenant:
    district = DistrictFactory(slug=slug, name=name)
    with scope(district=district):
        school = SchoolFactory(district=district, name=f"{name} Middle")
        other_school = SchoolFactory(district=district, name=f"{name} High")
        users = {}
        for role in Role.values:
            user = UserFactory(email=f"{role}@{slug}.example.org")
            RoleGrantFactory(
                membership__district=district,
                membership__user=user,
                role=role,
                school=school if role in (Role.ATTENDANCE_LEAD, Role.COUNSELOR) else None,
            )
            users[role] = user
    return Tenant(district=district, school=school, other_school=other_school, users=users)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return _tenant("alpha", "Alpha County Schools")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return _tenant("beta", "Beta City Schools")


@pytest.fixture
def in_scope():
    """Enter a district's scope inside a test: `with in_scope(tenant_a.district): ...`."""

    def enter(district):
        return scope(district=district)

    return enter


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness protects real passwords; fixtures create dozens of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttles and other counters live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request as a Spanish reader leaves Spanish active in the thread (LocaleMiddleware does
    not switch back); text built outside a request in the next test must not inherit it."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def records_a(tenant_a):
    """District A's objects of every kind, for the API tests and the isolation matrix."""
    return district_records(tenant_a, prefix="A")


@pytest.fixture
def records_b(tenant_b):
    return district_records(tenant_b, prefix="B")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Export files and uploads land in a temporary folder, never in the repository's media/."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
