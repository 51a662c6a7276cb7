"""Where a signed-in person starts: the district they belong to, and their role's page there."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django_scopes import scopes_disabled

from districts.models import Membership

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
    """For the compose health check and load balancers: the app is up and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
