"""Sessions end after an idle period (District.settings["session_idle_minutes"], default 30):
a browser left signed in on a school-office computer must not stay open to student records.

A person in several districts gets the shortest of their districts' limits. The limit is read
again every few minutes, so an admin's change reaches sessions already open. Requests a page
makes by itself (htmx polling, marked with an X-AttendNC-Background header) do not count as
activity.
"""

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

DEFAULT_IDLE_MINUTES = 30
LAST_SEEN = "_attendnc_last_seen"
LIMIT = "_attendnc_idle_minutes"
LIMIT_READ_AT = "_attendnc_idle_minutes_at"
RECHECK_LIMIT_SECONDS = 300
TOUCH_EVERY_SECONDS = 30  # the session is written at most this often while someone works
BACKGROUND_HEADER = "X-AttendNC-Background"


def idle_minutes(district) -> int:
    value = (district.settings or {}).get("session_idle_minutes", DEFAULT_IDLE_MINUTES)
    return int(value) if str(value).isdigit() else DEFAULT_IDLE_MINUTES


def idle_minutes_for(user) -> int:
    from .models import Membership

    with scopes_disabled():  # the person's own memberships, across their districts
        districts = [
            m.district for m in Membership.objects.filter(user=user, is_active=True).select_related("district")
        ]
    return min((idle_minutes(district) for district in districts), default=DEFAULT_IDLE_MINUTES)


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            expired = self._expired_after(request)
            if expired is not None:
                logout(request)
                return self._signed_out(request, expired)
        return self.get_response(request)

    @staticmethod
    def _expired_after(request) -> int | None:
        """The idle limit in minutes when the session has passed it, else None (and the visit counts)."""
        session, now = request.session, time.time()
        limit = session.get(LIMIT)
        if limit is None or now - session.get(LIMIT_READ_AT, 0) > RECHECK_LIMIT_SECONDS:
            limit = session[LIMIT] = idle_minutes_for(request.user)
            session[LIMIT_READ_AT] = now
        last = session.get(LAST_SEEN)
        if last is not None and now - last > limit * 60:
            return limit
        if request.headers.get(BACKGROUND_HEADER) != "1" and (last is None or now - last > TOUCH_EVERY_SECONDS):
            session[LAST_SEEN] = now
        return None

    @staticmethod
    def _signed_out(request, minutes: int):
        parts = request.path_info.split("/")
        if parts[1:2] == ["api"] or (parts[1:2] == ["d"] and parts[3:4] == ["api"]):
            return HttpResponse(status=401)
        message = _("You were signed out after %(minutes)s minutes without activity. Please sign in again.")
        messages.info(request, message % {"minutes": minutes})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(request.get_full_path())["Location"]
            return response
        return redirect_to_login(request.get_full_path())
