"""The address written to the audit log and counted by the sign-in throttle cannot be forged."""

import pytest
from django.test import RequestFactory

from districts.services import client_ip
from districts.tenancy import district_scope


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "6.6.6.6", "10.0.0.9"),  # no proxy configured: the header is the caller's own words
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # our proxy appended the real client last
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "", "10.0.0.9"),
    ],
)
def test_only_hops_added_by_our_proxies_are_believed(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == expected


def test_a_scope_without_a_district_is_refused():
    with pytest.raises(ValueError), district_scope(None):
        pass
