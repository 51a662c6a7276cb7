"""Where each role lands and what it can navigate to. Lives at project level because it names
pages of every app, while the apps themselves depend only downwards."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from districts.models import Role

# The first role a user holds decides the page they land on after signing in (and where the
# AttendNC link in the header takes them). District staff watch the district's pulse.
HOME_BY_ROLE = [
    (Role.DISTRICT_ADMIN, "districts:people"),
    (Role.DISTRICT_STAFF, "pulse:dashboard"),
    (Role.ATTENDANCE_LEAD, "outreach:huddle_current"),
    (Role.COUNSELOR, "cases:caseload"),
    (Role.MENTOR, "outreach:roster"),
]

NAV = [
    (_("Pulse"), "pulse:dashboard", {Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF}),
    (_("Schools"), "students:schools", {Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF}),
    (
        _("Huddle"),
        "outreach:huddle_current",
        {Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.MENTOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN},
    ),
    (_("Students"), "outreach:roster", set(Role)),
    (_("Figures"), "tiers:figures", {Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF}),
    (_("Caseload"), "cases:caseload", {Role.COUNSELOR, Role.ATTENDANCE_LEAD, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN}),
    (_("Support"), "support:list", {Role.ATTENDANCE_LEAD, Role.COUNSELOR, Role.DISTRICT_STAFF, Role.DISTRICT_ADMIN}),
    (_("People"), "districts:people", {Role.DISTRICT_ADMIN}),
    (_("Mentors"), "students:mentors", {Role.DISTRICT_ADMIN}),
    (_("Audit log"), "districts:audit_log", {Role.DISTRICT_ADMIN}),
    (_("Imports"), "imports:index", {Role.DISTRICT_ADMIN}),
    (_("Policy"), "tiers:policy", {Role.DISTRICT_ADMIN}),
    (_("Runs"), "tiers:runs", {Role.DISTRICT_ADMIN}),
    (_("Family messages"), "outreach:messages_home", {Role.DISTRICT_ADMIN}),
    (_("Letters"), "outreach:letters", {Role.DISTRICT_ADMIN, Role.ATTENDANCE_LEAD}),
]


def home_url_name(access) -> str:
    return next(name for role, name in HOME_BY_ROLE if role in access.roles)


def district_nav(request):
    access = getattr(request, "access", None)
    if access is None:
        return {}
    slug = access.district.slug
    current = request.resolver_match.view_name if request.resolver_match else ""
    links = [
        {"label": label, "url": reverse(name, kwargs={"district": slug}), "current": name == current}
        for label, name, roles in NAV
        if access.has_role(*roles)
    ]
    return {
        "access": access,
        "district": access.district,
        "nav_links": links,
        "role_labels": sorted(Role(role).label for role in access.roles),
    }
