"""District admin pages of the nightly engine: the calculation policy (with a preview of what a
change would do) and the metrics runs (start one, watch it finish)."""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from districts.access import role_required
from districts.models import AuditEvent, Role
from districts.services import audit_record

from . import preview, selectors, services
from .aggregates import DIMENSIONS
from .forms import PolicyForm, RunStartForm
from .models import MetricsRun


@role_required(Role.DISTRICT_ADMIN)
def policy(request, district):
    current = selectors.policy_shown(district=request.district)
    form = PolicyForm(request.POST or None, policy=current)
    if request.method == "POST" and form.is_valid():
        if form.draft().as_policy() == current.as_policy():
            messages.info(request, _("Nothing changed, so no new version was saved."))
            return redirect("tiers:policy", district=district)
        saved, run = services.policy_change(
            district=request.district, user=request.user, note=form.cleaned_data["note"],
            as_of=_recompute_date(), **form.policy_values(),
        )  # fmt: skip
        audit_record(
            district=request.district, user=request.user, action=AuditEvent.Action.CHANGE,
            object_type="calculation_policy", object_id=saved.version, object_label=f"Calculation policy v{saved.version}",
            request=request,
        )  # fmt: skip
        messages.success(
            request,
            _("Saved policy version %(version)s. Every student is being recomputed with it.")
            % {"version": saved.version},
        )
        return redirect("tiers:run_detail", district=district, run_id=run.pk)
    return _policy_page(request, form, current, preview_result=None, status=400 if form.errors else 200)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def policy_preview(request, district):
    """What the edited, unsaved policy would change. The form posts here on every change (htmx)
    and through its Preview button without JavaScript; nothing is saved."""
    current = selectors.policy_shown(district=request.district)
    form = PolicyForm(request.POST, policy=current)
    result = None
    if form.is_valid():
        result = preview.policy_preview(
            district=request.district, current=current.as_policy(), current_version=current.version,
            draft=form.draft().as_policy(), as_of=_recompute_date(),
        )  # fmt: skip
    if request.htmx:
        return render(request, "tiers/policy.html#preview", {"form": form, "preview": result})
    return _policy_page(request, form, current, preview_result=result, status=200 if result else 400)


def _policy_page(request, form, current, *, preview_result, status):
    context = {
        "form": form, "current": current, "history": selectors.policy_history(), "preview": preview_result,
        "current_run": selectors.current_run(),
    }  # fmt: skip
    return render(request, "tiers/policy.html", context, status=status)


def _recompute_date():
    """The current run's as-of date, so a recompute and a preview compare like with like;
    yesterday before the district's first run."""
    run = selectors.current_run()
    return run.as_of if run else selectors.default_as_of()


@role_required(Role.DISTRICT_ADMIN)
def runs(request, district):
    form = RunStartForm(initial={"as_of": selectors.default_as_of()})
    return _runs_page(request, form)


def _runs_page(request, form, status=200):
    context = {"runs": selectors.metrics_run_list(), "form": form, "in_progress": selectors.metrics_run_in_progress()}
    return render(request, "tiers/runs.html", context, status=status)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def run_start(request, district):
    """Recompute now: one run at a time per district from here, so a double click (or two
    admins) does not start two runs that race to be current."""
    running = selectors.metrics_run_in_progress()
    if running is not None:
        messages.info(request, _("A run is already in progress; here it is."))
        return redirect("tiers:run_detail", district=district, run_id=running.pk)
    form = RunStartForm(request.POST)
    if not form.is_valid():
        return _runs_page(request, form, status=400)
    run = services.metrics_run_start(
        district=request.district, as_of=form.cleaned_data["as_of"], trigger=MetricsRun.Trigger.MANUAL
    )
    return redirect("tiers:run_detail", district=district, run_id=run.pk)


@require_POST
@role_required(Role.DISTRICT_ADMIN)
def run_retry(request, district, run_id):
    """A failed run stays as it was; its retry is a new run for the same date."""
    run = selectors.metrics_run_get(run_id=run_id)
    if run.status != MetricsRun.Status.FAILED:
        return redirect("tiers:run_detail", district=district, run_id=run.pk)
    return redirect("tiers:run_detail", district=district, run_id=services.metrics_run_retry(run=run).pk)


@role_required(Role.DISTRICT_ADMIN)
def run_detail(request, district, run_id):
    run = selectors.metrics_run_get(run_id=run_id)
    if request.htmx:
        # 286 tells htmx to stop polling once the run has finished (success or failure).
        return render(request, "tiers/run_detail.html#progress", {"run": run}, status=286 if run.finished_at else 200)
    return render(request, "tiers/run_detail.html", {"run": run})


FIGURE_TABS = [
    ("school", _lazy("School")), ("grade", _lazy("Grade")), ("grade_band", _lazy("Grade band")),
    ("subgroup", _lazy("Subgroup")), ("race_ethnicity", _lazy("Race/ethnicity")), ("week", _lazy("Week")),
    ("district", _lazy("District")),
]  # fmt: skip
SUBGROUP_LABELS = {
    "econ_disadvantaged": _lazy("Economically disadvantaged"),
    "disability": _lazy("Students with disabilities"),
    "english_learner": _lazy("English learners"),
    "homeless": _lazy("McKinney-Vento / homeless"),
    "foster": _lazy("In foster care"),
}


def _in_readers_words(report: dict) -> dict:
    """The report's labels and prior-year basis in the reader's language (the report itself is
    cached and served by the API in English)."""

    def label(group: dict) -> str:
        key, dimension = group["key"], group["dimension"]
        if dimension == "grade":
            return _("Grade %(grade)s") % {"grade": key}
        if dimension == "grade_band":
            return _("Grades %(band)s") % {"band": key}
        if dimension == "subgroup" and key in SUBGROUP_LABELS:
            return str(SUBGROUP_LABELS[key])
        if dimension == "week":
            return _("Week of %(date)s") % {"date": formats.date_format(datetime.date.fromisoformat(key))}
        return group["label"]

    through = report.get("prior_year_through")
    if through:
        basis = _(
            "Prior year to date: %(year)s through %(date)s, computed from last year's daily attendance with this "
            "year's policy. Students are grouped as they are this year."
        ) % {"year": report["prior_year"], "date": formats.date_format(through)}
    else:
        basis = _(
            "Full prior school year %(year)s from the prior-year summaries (days enrolled and absent); the prior "
            "year to date and its absence categories are not on record. Students are grouped as they are this year."
        ) % {"year": report["prior_year"]}
    groups = [{**group, "label": label(group)} for group in report["groups"]]
    return {**report, "groups": groups, "prior_year_basis": basis}


@role_required(Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)
def figures(request, district):
    """Chronic absence by school, grade, subgroup and week, with the prior year beside it."""
    dimension = request.GET.get("by", "school")
    if dimension not in DIMENSIONS:
        dimension = "school"
    report = selectors.aggregate_report(district=request.district, dimension=dimension)
    context = {
        "report": report and _in_readers_words(report),
        "dimension": dimension,
        "dimension_label": str(dict(FIGURE_TABS)[dimension]).lower(),
        "tabs": FIGURE_TABS,
    }
    template = "tiers/figures.html#figures" if request.htmx else "tiers/figures.html"
    return render(request, template, context)
