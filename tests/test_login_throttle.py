"""The sign-in throttle (districts.login_throttle): per account and address together, so a
shared school address and a colleague's typing lock nobody else out; password-reset requests
throttled; counting atomic under concurrent attempts, on Redis and on the database; and with
Redis down, sign-in still works and is still throttled."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from districts import login_throttle
from districts.models import Role, ThrottleCounter

SCHOOL_OFFICE, HOME = "203.0.113.7", "198.51.100.20"
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def _sign_in(client, email, password, address):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


@override_settings(LOGIN_RATE_LIMIT="3/5m")
def test_guesses_lock_one_account_from_one_address_only(tenant_a, client, password):
    target, colleague = tenant_a.user(Role.COUNSELOR).email, tenant_a.user(Role.ATTENDANCE_LEAD).email
    for _ in range(3):
        assert _sign_in(client, target, "wrong-guess", SCHOOL_OFFICE).status_code == 200
    assert _sign_in(client, target, password, SCHOOL_OFFICE).status_code == 429
    # The school's shared address still works for everyone else...
    assert _sign_in(client, colleague, password, SCHOOL_OFFICE).status_code == 302
    client.logout()
    # ...and the person whose email was typed still signs in from their own address.
    assert _sign_in(client, target, password, HOME).status_code == 302


@override_settings(LOGIN_RATE_LIMIT="3/5m")
def test_a_success_clears_the_accounts_count(tenant_a, client, password):
    email = tenant_a.user(Role.MENTOR).email
    for _ in range(2):
        _sign_in(client, email, "wrong-guess", HOME)
    assert _sign_in(client, email, password, HOME).status_code == 302
    client.logout()
    for _ in range(2):
        _sign_in(client, email, "wrong-guess", HOME)
    assert _sign_in(client, email, password, HOME).status_code == 302


@override_settings(PASSWORD_RESET_RATE_LIMIT="2/1h")
def test_password_reset_requests_are_throttled_without_saying_so(tenant_a, client):
    email = tenant_a.user(Role.MENTOR).email
    responses = [client.post(reverse("password_reset"), {"email": email}) for _ in range(4)]
    assert [r.status_code for r in responses] == [302] * 4  # the same answer every time
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_concurrent_failures_are_all_counted(transactional_db, backend, settings):
    if backend == "database":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    elif not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    if backend == "database" and connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    barrier, errors = threading.Barrier(8), []

    def attempt():
        try:
            barrier.wait()
            for _ in range(5):
                login_throttle.record_failure(SCHOOL_OFFICE, "someone@example.org")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert login_throttle.count(login_throttle._login_key(SCHOOL_OFFICE, "someone@example.org")) == 40
    login_throttle.clear(SCHOOL_OFFICE, "someone@example.org")


@override_settings(CACHES=DEAD_REDIS, LOGIN_RATE_LIMIT="3/5m")
def test_with_redis_down_sign_in_works_and_is_still_throttled(tenant_a, client, password):
    email = tenant_a.user(Role.MENTOR).email
    assert _sign_in(client, email, password, HOME).status_code == 302
    client.logout()
    for _ in range(3):
        assert _sign_in(client, email, "wrong-guess", HOME).status_code == 200
    assert ThrottleCounter.objects.get().count == 3  # kept in the database meanwhile
    assert _sign_in(client, email, password, HOME).status_code == 429


def test_an_expired_window_starts_again_at_one(db):
    key = "throttle:test:window"
    assert [login_throttle._db_hit(key, 300) for _ in range(3)] == [1, 2, 3]
    from django.utils import timezone

    ThrottleCounter.objects.filter(name=key).update(expires_at=timezone.now())
    assert login_throttle._db_hit(key, 300) == 1
