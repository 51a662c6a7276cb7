"""How the pulse pages name a group: a school by its name, a grade as "Grade 7", a subgroup as
"English learners: yes". The published `group` keys (SIS id, grade, field=value) stay as they are
in files and on the API; these words are for people."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .figures import BOOLEAN_SUBGROUPS, GroupRow

SUBGROUP_LABELS = {
    "econ_disadvantaged": gettext_lazy("Economically disadvantaged"),
    "disability": gettext_lazy("Students with disabilities"),
    "english_learner": gettext_lazy("English learners"),
    "race_ethnicity": gettext_lazy("Race/ethnicity"),
    "homeless": gettext_lazy("McKinney-Vento / homeless"),
    "foster": gettext_lazy("In foster care"),
}
BAND_LABELS = {
    "at_risk": gettext_lazy("At risk (5–9%)"),
    "moderate": gettext_lazy("Moderate (10–19%)"),
    "severe": gettext_lazy("Severe (20–29%)"),
    "acute": gettext_lazy("Acute (30% or more)"),
}


def group_label(row: GroupRow, school_name: str | None = None) -> str:
    if row.level == "district":
        return _("Whole district")
    if row.level == "school":
        return school_name or row.group
    if row.level == "grade":
        return _("Kindergarten") if row.group == "K" else _("Grade %(grade)s") % {"grade": row.group}
    field, value = row.group.split("=", 1)
    if field in BOOLEAN_SUBGROUPS:
        answer = _("yes") if value == "Y" else _("no")
        return f"{SUBGROUP_LABELS[field]}: {answer}"
    return f"{SUBGROUP_LABELS[field]}: {value}"


def subgroup_label(row) -> str:
    """An equity row (pulse.equity.EquityRow): its field and value, or the whole district."""
    if row.dimension == "district":
        return _("Whole district")
    name = SUBGROUP_LABELS[row.dimension]
    if row.dimension in BOOLEAN_SUBGROUPS:
        return f"{name}: {_('yes') if row.value == 'Y' else _('no')}"
    return f"{name}: {row.value}"
