"""The pulse pages' own navigation: one tab per page, in the order a district director reads them.

Every pulse page includes `pulse/_tabs.html`, which renders TABS with the current one marked
(aria-current). A new pulse page adds its (url name, label) here and nothing else.
"""

from django.utils.translation import gettext_lazy as _

TABS = [
    ("pulse:dashboard", _("Overview")),
    ("pulse:groups", _("Schools, grades and subgroups")),
    ("pulse:checks", _("Week-2 and week-4 checks")),
    ("pulse_review:follow_through", _("Follow-through")),
    ("pulse_review:effectiveness", _("What followed each support")),
    ("pulse_review:equity", _("Equity")),
    ("pulse_review:data_quality", _("Data quality")),
    ("support:list", _("Support requests")),
]


def tab_links(request) -> list[dict]:
    """TABS as links for the district in the URL, the page being shown marked current."""
    from django.urls import reverse

    slug = request.district.slug
    current = request.resolver_match.view_name if request.resolver_match else ""
    return [
        {"label": label, "url": reverse(name, kwargs={"district": slug}), "current": name == current}
        for name, label in TABS
    ]
