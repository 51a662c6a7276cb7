"""Where a signed-in person starts: the district they belong to, and their role's page there."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django_scopes import scopes_disabled

from districts.models import Membership

from . import health
from .navigation import home_url_name


@login_required
def home(request):
    with scopes_disabled():  # the user's own memberships across districts, nothing more
        memberships = list(Membership.objects.filter(user=request.user, is_active=True).select_related("district"))
    if len(memberships) == 1:
        return redirect("district_home", district=memberships[0].district.slug)
    return render(request, "home.html", {"memberships": memberships})


def district_home(request, district):
    return redirect(home_url_name(request.access), district=district)


def healthz(request):
    """For the compose health check, load balancers and the on-call person: the database, Redis
    and the Celery workers, each on its own line.

    The status code follows the database only (503 without it): the web container must not be
    restarted because a worker is down. `?strict=1` answers 503 when anything is down, for a
    monitor that pages someone."""
    checks = {"database": health.database(), "redis": health.redis()}
    checks["celery"] = health.celery_workers(broker_up=checks["redis"]["status"] != "down")
    down = [name for name, check in checks.items() if check["status"] == "down"]
    status = "ok" if not down else ("down" if "database" in down else "degraded")
    failing = "database" in down or (bool(down) and request.GET.get("strict") == "1")
    response = JsonResponse({"status": status, **checks}, status=503 if failing else 200)
    response["Cache-Control"] = "no-store"
    return response
