"""The outreach panel on a student's page (registered in OutreachConfig.ready(); students never
imports outreach): the student's place on this week's huddle, the last contacts, and the way to
the full timeline. Two queries; shown to the roles that work the huddle."""

from django.utils import timezone

from . import permissions
from .models import HuddleRow, OutreachAction

RECENT_CONTACTS = 3


def outreach_panel(*, request, student) -> dict | None:
    access = getattr(request, "access", None)
    if access is None or not access.has_role(*permissions.HUDDLE_ROLES):
        return None
    school_ids = permissions.current_school_ids(student.enrollments.all(), timezone.localdate())
    actions = list(OutreachAction.objects.filter(student=student).select_related("author__user")[:RECENT_CONTACTS])
    contacts = [
        (
            action,
            action.sensitive
            and not permissions.reads_sensitive(access, author_id=action.author_id, school_ids=school_ids),
        )
        for action in actions
    ]
    row = (
        HuddleRow.objects.filter(student=student, outcome=HuddleRow.Outcome.OPEN)
        .select_related("huddle__school", "owner__user")
        .order_by("-huddle__week_start")
        .first()
    )
    return {"student": student, "contacts": contacts, "row": row}
