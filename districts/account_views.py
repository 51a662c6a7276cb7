"""A signed-in person's own account pages, outside any district: their API tokens and the
invitations they were sent."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import services, tokens


@never_cache
@login_required
def api_tokens(request):
    """Lists the person's tokens; POST makes a new one, shown on this response only (its digest is
    all that is kept)."""
    new_token = None
    if request.method == "POST":
        row, new_token = tokens.api_token_issue(user=request.user)
    context = {
        "tokens": tokens.api_token_list(user=request.user),
        "new_token": new_token,
        "lifetime_days": tokens.api_token_lifetime(request.user).days,
    }
    return render(request, "districts/api_tokens.html", context, status=201 if new_token else 200)


@require_POST
@login_required
def api_token_revoke(request, token_key):
    if not tokens.api_token_revoke(user=request.user, token_key=token_key):
        raise Http404("No such token.")  # another person's token looks like a missing one
    messages.success(request, _("Token %(prefix)s… is revoked: it no longer works.") % {"prefix": token_key[:8]})
    return redirect("api_tokens")


@require_POST
@login_required
def api_tokens_revoke_all(request):
    count = tokens.api_tokens_revoke_all(user=request.user)
    messages.success(request, _("All your API tokens are revoked (%(count)s).") % {"count": count})
    return redirect("api_tokens")


@never_cache
@login_required
def invitation(request, token):
    """An invitation's link: signed in as the invited address, the person accepts or declines.
    Anyone else, and an expired or answered link, gets a 404 that says nothing of the district."""
    found = services.invitation_for_token(token)
    if found is None or found.email != request.user.email:
        raise Http404("No such invitation.")
    if request.method == "POST":
        if request.POST.get("answer") == "accept":
            services.invitation_accept(invitation=found, user=request.user)
            messages.success(
                request,
                _("You joined %(district)s as %(role)s.") % {"district": found.district, "role": found.role_label},
            )
            return redirect("district_home", district=found.district.slug)
        services.invitation_decline(invitation=found, user=request.user)
        messages.info(request, _("You declined the invitation."))
        return redirect("home")
    return render(request, "districts/invitation.html", {"invitation": found})
