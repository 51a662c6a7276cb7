"""Who saw which students: one audit entry per response, naming every student it showed.

SPEC §9 asks that every view of a student record and every export be logged. Lists matter as
much as records (a roster search, a huddle, a CSV name hundreds of students), so a view names
the students it shows and one AuditEvent per response carries all of their ids:

    from districts.audit import students_shown

    def roster(request, district):
        page = Paginator(students, 50).get_page(...)
        students_shown(request, page.object_list, what="roster")   # ids or model instances
        return render(...)

Calls only collect; `StudentAuditMiddleware` writes what a response collected in one INSERT
once the response exists (a page whose panels each name students still writes one row), and
nothing when the response is a 403, 404 or 5xx. DRF views pass their Request as they get it.
Outside a request (management commands, tasks) `students_seen_record` writes at once.

"Who saw student X between dates" is `districts.selectors.audit_event_list(student_id=X, ...)`.
tests/test_audit_coverage.py walks every route and fails for one that renders a student's name
without naming the student here.
"""

import dataclasses
import getpass
from collections.abc import Callable, Iterable

from django.db import models

from .models import AuditEvent, District

PENDING = "_attendnc_students_shown"
STUDENT_MODEL = "students.Student"


@dataclasses.dataclass
class _Pending:
    district_id: int
    action: str
    what: str
    object_id: str
    object_label: str
    students: set[int]
    detail: dict


def student_ids(students: Iterable) -> set[int]:
    """Ids from model instances (a Student, or anything with a student_id) or plain ints."""
    ids = set()
    for item in students:
        if isinstance(item, int):
            ids.add(item)
        elif hasattr(item, "student_id"):
            ids.add(item.student_id)
        elif isinstance(item, models.Model):
            ids.add(item.pk)
        else:
            ids.add(int(item))
    ids.discard(None)
    return ids


def students_shown(
    request,
    students: Iterable,
    *,
    what: str,
    action: str = AuditEvent.Action.VIEW,
    obj=None,
    label: str = "",
    district: District | None = None,
    **detail,
) -> None:
    """Note that this response shows these students (`what`: the page, partial or export)."""
    http = getattr(request, "_request", request)  # a DRF Request wraps Django's
    district = district or getattr(http, "district", None)
    if district is None:
        raise ValueError("students_shown needs the request's district (or district=).")
    pending: dict = http.__dict__.setdefault(PENDING, {})
    object_id = str(getattr(obj, "pk", obj) or "")
    key = (district.pk, action, what, object_id)
    entry = pending.get(key)
    if entry is None:
        entry = pending[key] = _Pending(
            district.pk, action, what, object_id, label or (str(obj) if obj is not None else ""), set(), {}
        )
    entry.students |= student_ids(students)
    entry.detail.update({name: _plain(value) for name, value in detail.items()})


def flush(request, response) -> list[AuditEvent]:
    """Write what the response collected: one INSERT, whatever the number of students."""
    pending: dict = request.__dict__.pop(PENDING, {})
    if not pending or response.status_code in (403, 404) or response.status_code >= 500:
        return []
    from .services import client_ip  # services imports this module's neighbours; keep the cycle out

    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    events = [
        AuditEvent(
            district_id=entry.district_id,
            user=user if authenticated else None,
            user_email=getattr(user, "email", "") if authenticated else "",
            action=entry.action,
            object_type=entry.what,
            object_id=entry.object_id,
            object_label=entry.object_label[:200],
            students=sorted(entry.students),
            path=request.get_full_path()[:500],
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            detail=entry.detail,
        )
        for entry in pending.values()
    ]
    return AuditEvent._base_manager.bulk_create(events)  # the admin's requests run unscoped


def students_seen_record(
    *,
    district: District,
    students: Iterable,
    what: str,
    user=None,
    action: str = AuditEvent.Action.EXPORT,
    label: str = "",
    **detail,
) -> AuditEvent:
    """For code without a request: a management command's export, a task. Without a user the
    entry names the operating-system account that ran it."""
    from .services import audit_record

    if user is None:
        detail.setdefault("os_user", _os_user())
    return audit_record(
        district=district, user=user, action=action, object_type=what, object_label=label,
        students=sorted(student_ids(students)), detail={name: _plain(value) for name, value in detail.items()},
    )  # fmt: skip


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return ""


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)


class StudentAuditMiddleware:
    """Writes the students a response showed (see the module docstring). Sits inside the
    district middleware, so the write happens within the request's district scope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/admin/"):
            _admin_students_shown(request, response)
        flush(request, response)
        return response


def _admin_students_shown(request, response) -> None:
    """The platform admin lists rows of every district: each district's students shown get an
    entry of that district. Any model with a student (or a Student itself) counts, so an admin
    registered later by another app is covered without a line of its own."""
    context = getattr(response, "context_data", None) or {}
    shown = list(context["cl"].result_list) if "cl" in context else []
    shown += [context[key] for key in ("original", "object") if isinstance(context.get(key), models.Model)]
    if isinstance(context.get("queryset"), models.QuerySet):  # a bulk action's confirmation page
        shown += list(context["queryset"])
    by_district: dict[int, set[int]] = {}
    for obj in shown:
        student = obj.pk if obj._meta.label == STUDENT_MODEL else getattr(obj, "student_id", None)
        if student is not None and getattr(obj, "district_id", None) is not None:
            by_district.setdefault(obj.district_id, set()).add(student)
    pending: dict = request.__dict__.setdefault(PENDING, {})
    what = f"admin:{context['opts'].label_lower}" if "opts" in context else "admin"
    for district_id, ids in by_district.items():
        pending[(district_id, AuditEvent.Action.VIEW, what, "")] = _Pending(
            district_id, AuditEvent.Action.VIEW, what, "", "Django admin", ids, {}
        )


# --- finding students from the audit page, without districts importing students ------------


@dataclasses.dataclass(frozen=True)
class StudentDirectory:
    """Registered by the students app (AppConfig.ready), like students/panels.py: the audit page
    lives in districts, which must not import the students app above it."""

    search: Callable[..., list[tuple[int, str]]]  # ("name or SIS id", by_id=False) -> [(id, label)], in scope
    labels: Callable[[Iterable[int]], dict[int, str]]  # ids -> "Name (SIS id)"


_directory: StudentDirectory | None = None


def register_student_directory(directory: StudentDirectory) -> None:
    global _directory
    _directory = directory


def student_directory() -> StudentDirectory:
    if _directory is None:
        raise RuntimeError("No student directory registered (the students app registers it in ready()).")
    return _directory
