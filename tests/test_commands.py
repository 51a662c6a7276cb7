"""The management commands share the services the pages use."""

import pytest
from django.core.management import CommandError, call_command

from districts.models import District, Membership, RoleGrant


def test_create_district_and_user(db, in_scope):
    call_command("create_district", slug="wake", name="Wake County", timezone="America/New_York")
    call_command("create_district", slug="maui", name="Maui", timezone="Pacific/Honolulu")
    wake = District.objects.get(slug="wake")
    call_command("create_user", district="wake", email="Admin@Wake.org", role="district_admin")
    with in_scope(wake):
        grant = RoleGrant.objects.select_related("membership__user").get()
    assert grant.membership.user.email == "admin@wake.org" and grant.role == "district_admin"


def test_create_district_refuses_a_bad_time_zone(db):
    with pytest.raises(CommandError, match="time zone"):
        call_command("create_district", slug="x", name="X", timezone="Mars/Olympus")
    assert not District.objects.exists()


def test_create_user_needs_a_known_school_for_school_roles(tenant_a, in_scope):
    with pytest.raises(CommandError, match="No school"):
        call_command("create_user", district="alpha", email="l@alpha.org", role="attendance_lead", school="NOPE")
    with pytest.raises(CommandError, match="school role"):
        call_command("create_user", district="alpha", email="l@alpha.org", role="attendance_lead")
    call_command(
        "create_user", district="alpha", email="l@alpha.org", role="attendance_lead", school=tenant_a.school.sis_id
    )
    with in_scope(tenant_a.district):
        assert Membership.objects.filter(user__email="l@alpha.org").exists()
