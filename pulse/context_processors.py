"""Overdue support requests for the panel the attendance lead's home page includes
(pulse/_support_due.html), without the huddle's app importing this one.

The query runs only when a template asks for `support_overdue`: most pages never do."""

import functools

from django.utils import timezone

from . import support_permissions


def support_due(request):
    access = getattr(request, "access", None)
    if access is None or not access.has_role(*support_permissions.SUPPORT_ROLES):
        return {}

    @functools.cache
    def overdue():
        from .support_selectors import support_requests_overdue

        return support_requests_overdue(access=access, today=timezone.localdate())

    return {"support_overdue": overdue}
