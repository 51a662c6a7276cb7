"""Resolve the district named in the URL and run the whole request inside its scope.

The scope covers rendering too (templates evaluate lazy querysets after the view returns),
so the middleware wraps get_response rather than using process_view.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from .access import DistrictAccess
from .models import District, Membership
from .tenancy import district_scope


class DistrictScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        slug = self._district_slug(request)
        if slug is None:
            return self.get_response(request)
        if self._is_api(request):
            # API clients authenticate inside DRF (tokens); the API's permission class checks
            # membership there. Until then the request only knows which district it names.
            district = District.objects.filter(slug=slug).first()
            request.district = district
            if district is None:
                # Not a 404 here: DRF first answers 401 to the anonymous and then the same JSON
                # 404 as for a district the caller is not a member of, so neither can tell the
                # two apart. The empty scope matches no rows meanwhile (a None scope would match all).
                with scope(district=[]):
                    return self.get_response(request)
            with district_scope(district), timezone.override(district.tzinfo):
                return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = self._access_for(request.user, slug)
        request.district, request.access = access.district, access
        # Dates on district pages are the district's dates ("today" in Honolulu is not UTC's).
        with district_scope(access.district), timezone.override(access.district.tzinfo):
            return self.get_response(request)

    @staticmethod
    def _district_slug(request) -> str | None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        return match.kwargs.get("district")

    @staticmethod
    def _is_api(request) -> bool:
        return request.path_info.split("/")[3:4] == ["api"]

    @staticmethod
    def _access_for(user, slug: str) -> DistrictAccess:
        """A district the user is not an active member of looks exactly like a missing one."""
        with scopes_disabled():
            membership = (
                Membership.objects.select_related("district")
                .prefetch_related("grants")
                .filter(user=user, district__slug=slug, is_active=True)
                .first()
            )
            if membership is None:
                raise Http404("No such district.")
            return DistrictAccess.for_membership(membership)


class SuperuserAdminMiddleware:
    """The platform admin lists rows of every district, so it runs unscoped — for superusers only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/admin/") and request.user.is_superuser:
            with scopes_disabled():
                return self.get_response(request)
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages and exports of student data must not stay in a browser's or proxy's cache (a shared
    computer in a school office): every response to a signed-in person, and every district URL,
    is sent with Cache-Control: no-store unless the view chose otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = request.path_info.startswith(("/d/", "/admin/", "/api/")) or (user and user.is_authenticated)
        if private and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
