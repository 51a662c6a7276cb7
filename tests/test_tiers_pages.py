"""The district admin pages of the nightly engine: the calculation policy with its preview, and
the metrics runs with their progress."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from districts.models import AuditEvent, Role
from districts.tenancy import district_cache_key
from tiers import preview, services
from tiers.models import CalculationPolicy, MetricsRun

from .tiers_data import OCT_31, policy_post, tiers_year


@pytest.fixture
def year(tenant_a, tenant_b):
    tiers_year(tenant_b, prefix="B")
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        services.compute_metrics(district=year.district, as_of=OCT_31)
    return year


@pytest.fixture
def admin(tenant_a, login):
    return login(tenant_a.user(Role.DISTRICT_ADMIN))


def url(name: str, **kwargs) -> str:
    return reverse(f"tiers:{name}", kwargs={"district": "alpha", **kwargs})


def versions(district) -> list[int]:
    with scope(district=district):
        return list(CalculationPolicy.objects.values_list("version", flat=True))


# --- policy page ------------------------------------------------------------------------------------


def test_the_policy_page_shows_the_version_in_use_and_its_history(year, admin):
    response = admin.get(url("policy"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "In use: version 1" in page and "Save as version 2 and recompute" in page
    assert 'name="t3_after_tier2__weeks" value="4"' in page and "Tier 2 → Tier 3 escalation" in page
    assert "The starting version" in page


def test_looking_at_the_policy_page_saves_nothing(tenant_a, admin):
    assert admin.get(url("policy")).status_code == 200
    assert versions(tenant_a.district) == []


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR])
def test_only_district_admins_see_the_policy_and_runs_pages(tenant_a, login, role):
    client = login(tenant_a.user(role))
    for name in ["policy", "runs"]:
        assert client.get(url(name)).status_code == 403


def test_the_preview_counts_the_students_a_change_would_move(year, admin):
    response = admin.post(url("policy_preview"), policy_post(chronic_threshold_pct="5"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    # Recent: 3 of 50 days (6%) is chronic at 5%. Everyone else stays where they are.
    assert "1 student would become chronically absent." in fragment
    assert "Chronic threshold: 10% → 5%" in fragment
    assert _row(fragment, "Chronically absent") == ["1", "2", "+1"]
    assert _row(fragment, "Tier 3") == ["1", "1", "no change"]
    assert versions(year.district) == [1]  # nothing saved


def test_the_preview_shows_each_change_on_its_own(year, admin):
    data = policy_post(chronic_threshold_pct="5", t2_monday_friday__enabled=None, t3_repeat_chronic__enabled=None)
    fragment = admin.post(url("policy_preview"), data, headers={"HX-Request": "true"}).content.decode()
    assert "Monday/Friday pattern (t2_monday_friday): turned off — No student would change." in fragment
    # Monday (tier 3 only through repeat chronic) drops to tier 2 without that rule.
    assert "Chronic two years running (t3_repeat_chronic): turned off — 1 student would move down a tier." in fragment
    assert "Chronic threshold: 10% → 5% — 1 student would become chronically absent." in fragment


def test_the_preview_works_without_javascript_too(year, admin):
    response = admin.post(url("policy_preview"), policy_post(min_membership_days="60"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and "would no longer be chronically absent" in page


def test_the_preview_lists_invalid_settings(year, admin):
    data = policy_post(t2_at_risk_rate__rate_low="12", chronic_threshold_pct="abc")
    fragment = admin.post(url("policy_preview"), data, headers={"HX-Request": "true"}).content.decode()
    assert "Fix these settings" in fragment and "Must be above the rate the rule starts from." in fragment
    assert admin.post(url("policy_preview"), data).status_code == 400


def test_the_preview_caches_the_loaded_year_per_district(year, admin, monkeypatch):
    loads = []
    real_load = preview.load_year
    monkeypatch.setattr(
        preview,
        "load_year",
        lambda district, school_year: loads.append(district.pk) or real_load(district, school_year),
    )
    for threshold in ["5", "6", "7"]:
        admin.post(url("policy_preview"), policy_post(chronic_threshold_pct=threshold), headers={"HX-Request": "true"})
    assert loads == [year.district.pk]
    from django.core.cache import cache

    assert cache.get(district_cache_key(year.district, "tiers", "preview-year", "2025-08-25")) is not None


def test_saving_makes_a_new_version_and_recomputes_with_it(year, admin, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            url("policy"), policy_post(chronic_threshold_pct="5", t3_after_tier2__weeks="6", note="State guidance")
        )
    with scope(district=year.district):
        saved = CalculationPolicy.objects.get(version=2)
        run = MetricsRun.objects.get(trigger=MetricsRun.Trigger.POLICY)
        event = AuditEvent.objects.get(action=AuditEvent.Action.CHANGE)
    assert response.status_code == 302 and response["Location"] == url("run_detail", run_id=run.pk)
    assert saved.created_by == tenant_a.user(Role.DISTRICT_ADMIN) and saved.note == "State guidance"
    assert saved.chronic_threshold_pct == Decimal("5.00") and saved.as_policy().rule("t3_after_tier2").weeks == 6
    assert run.policy == saved and run.as_of == OCT_31  # the current figures' date, recomputed
    run.refresh_from_db()
    assert run.status == MetricsRun.Status.SUCCEEDED and run.is_current
    assert (event.object_type, event.object_id) == ("calculation_policy", "2")

    history = admin.get(url("policy")).content.decode()
    assert "In use: version 2" in history and "State guidance" in history
    assert "Chronic threshold: 10% → 5%" in history
    assert "Still chronic after Tier 2 supports (t3_after_tier2): weeks after the Tier 2 plan began 4 → 6" in history


def test_saving_without_a_change_saves_no_version(year, admin):
    response = admin.post(url("policy"), policy_post(), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert versions(year.district) == [1]


def test_an_invalid_policy_is_not_saved(year, admin):
    response = admin.post(url("policy"), policy_post(recent_window="2"))
    assert response.status_code == 400
    assert versions(year.district) == [1]


# --- runs -----------------------------------------------------------------------------------------------


def test_the_runs_page_lists_recent_runs(year, admin):
    page = admin.get(url("runs")).content.decode()
    assert "Oct. 31, 2025" in page and "Command line" in page and "v1" in page
    assert "Finished" in page and "Current" in page


def test_recompute_now_queues_a_run_and_shows_its_page(year, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post(url("run_start"), {"as_of": "2025-11-07"})
    with scope(district=year.district):
        run = MetricsRun.objects.get(trigger=MetricsRun.Trigger.MANUAL)
    assert response.status_code == 302 and response["Location"] == url("run_detail", run_id=run.pk)
    assert run.status == MetricsRun.Status.QUEUED and run.as_of == datetime.date(2025, 11, 7)
    assert len(callbacks) == 1  # the task is sent once the run's row is committed

    waiting = admin.get(url("run_detail", run_id=run.pk), headers={"HX-Request": "true"})
    assert waiting.status_code == 200
    assert '<progress id="run-progress-bar" max="100" value="0">' in waiting.content.decode()
    assert "Waiting for a worker" in waiting.content.decode()

    callbacks[0]()  # the worker (eager here) runs it
    done = admin.get(url("run_detail", run_id=run.pk), headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert 'value="100"' in done.content.decode() and "Finished" in done.content.decode()


def test_the_run_page_polls_only_while_the_run_is_unfinished(year, admin):
    with scope(district=year.district):
        queued = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.MANUAL)
        finished = MetricsRun.objects.get(status=MetricsRun.Status.SUCCEEDED)
    assert 'hx-trigger="every 1s"' in admin.get(url("run_detail", run_id=queued.pk)).content.decode()
    assert 'hx-trigger="every 1s"' not in admin.get(url("run_detail", run_id=finished.pk)).content.decode()


def test_recompute_now_while_a_run_is_in_progress_goes_to_that_run(year, admin):
    with scope(district=year.district):
        running = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.NIGHTLY)
    response = admin.post(url("run_start"), {"as_of": "2025-11-07"})
    assert response["Location"] == url("run_detail", run_id=running.pk)
    with scope(district=year.district):
        assert MetricsRun.objects.count() == 2


def test_recompute_now_refuses_a_future_date(year, admin):
    response = admin.post(url("run_start"), {"as_of": "2099-01-01"})
    assert response.status_code == 400 and "future days" in response.content.decode()


def test_a_failed_run_says_the_previous_figures_stay(year, admin):
    with scope(district=year.district):
        run = services.metrics_run_create(district=year.district, as_of=OCT_31, trigger=MetricsRun.Trigger.MANUAL)
        MetricsRun.objects.filter(pk=run.pk).update(
            status=MetricsRun.Status.FAILED,
            error="out of memory",
            finished_at=run.created_at,
            started_at=run.created_at,
        )
    page = admin.get(url("run_detail", run_id=run.pk)).content.decode()
    assert "out of memory" in page and "The previous figures stay in use" in page


def test_admins_see_policy_and_runs_in_the_navigation(tenant_a, login):
    page = login(tenant_a.user(Role.DISTRICT_ADMIN)).get(url("runs")).content.decode()
    assert f'href="{url("policy")}"' in page and f'href="{url("runs")}" aria-current="page"' in page
    staff_page = login(tenant_a.user(Role.DISTRICT_STAFF)).get(reverse("outreach:roster", kwargs={"district": "alpha"}))
    assert url("policy") not in staff_page.content.decode()


def _row(fragment: str, label: str) -> list[str]:
    import re

    match = re.search(rf"<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", fragment, re.S)
    assert match, f"no row {label!r}"
    return re.findall(r"<td class=\"num\">(.*?)</td>", match.group(1))


# --- figures ----------------------------------------------------------------------------------------------


def test_the_figures_page_shows_chronic_absence_by_school_for_district_roles(year, tenant_a, login):
    page = login(tenant_a.user(Role.DISTRICT_STAFF)).get(url("figures")).content.decode()
    assert "As of Oct. 31, 2025 (policy version 1)" in page and "Full prior school year 2024-25" in page
    assert (
        f'<th scope="row">{year.school.name}</th>' in page and f'<th scope="row">{year.other_school.name}</th>' in page
    )
    assert (
        '<a href="?by=school" hx-get="?by=school" hx-target="#figures" hx-push-url="true" aria-current="page">' in page
    )


def test_the_figures_page_switches_groups_in_place(year, tenant_a, login):
    client = login(tenant_a.user(Role.DISTRICT_ADMIN))
    fragment = client.get(url("figures"), {"by": "grade"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and '<th scope="row">Grade 7</th>' in fragment
    assert "Chronic absence by grade" in fragment
    assert '<th scope="row">Grade 7</th>' in client.get(url("figures"), {"by": "grade"}).content.decode()
    assert "Chronic absence by school" in client.get(url("figures"), {"by": "nonsense"}).content.decode()


def test_the_figures_page_is_for_district_wide_roles(year, tenant_a, login):
    assert login(tenant_a.user(Role.ATTENDANCE_LEAD)).get(url("figures")).status_code == 403


def test_the_figures_page_before_the_first_run(tenant_a, login):
    assert "No figures yet" in login(tenant_a.user(Role.DISTRICT_ADMIN)).get(url("figures")).content.decode()
