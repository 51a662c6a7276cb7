"""District administration pages: who may act in the district, and what was viewed or exported."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import role_required
from .forms import AuditFilterForm, MemberAddForm, add_validation_errors
from .models import Role, RoleGrant


@role_required(Role.DISTRICT_ADMIN)
def people(request, district):
    form = MemberAddForm(request.POST or None, schools=selectors.school_list())
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.member_add(district=request.district, **form.cleaned_data)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, f"{grant.membership.user.email} is now {grant}.")
            return redirect("districts:people", district=district)
    return render(
        request,
        "districts/people.html",
        {"form": form, "memberships": selectors.membership_list(), "roles": Role},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def role_grant_remove(request, district, grant_id):
    grant = get_object_or_404(RoleGrant.objects.select_related("membership__user"), pk=grant_id)
    if grant.membership.user_id == request.user.pk and grant.role == Role.DISTRICT_ADMIN:
        messages.error(request, "You cannot remove your own administrator role; ask another administrator.")
    else:
        services.role_grant_remove(grant=grant)
        messages.success(request, f"Removed {grant} from {grant.membership.user.email}.")
    return redirect("districts:people", district=district)


@role_required(Role.DISTRICT_ADMIN)
def audit_log(request, district):
    form = AuditFilterForm(request.GET or None, object_types=selectors.audit_object_types())
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_event_list(**{key: value for key, value in filters.items() if value})
    page = Paginator(events.select_related("user"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "districts/audit_log.html#results" if request.htmx else "districts/audit_log.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})
