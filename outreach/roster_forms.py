"""The roster with risk's filters, kept in the URL."""

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import School

from .roster import BAND_LABELS, BAND_ORDER, DEFAULT_SORT, SORTS, RosterFilters

TIER_LABELS = {0: _("No tier trigger"), 2: _("Tier 2"), 3: _("Tier 3")}


class RosterRiskForm(forms.Form):
    q = forms.CharField(label=_("Name or student id"), required=False)
    school = forms.ModelChoiceField(queryset=School.objects.none(), required=False, label=_("School"))
    grade = forms.ChoiceField(required=False, label=_("Grade"))
    band = forms.ChoiceField(required=False, label=_("Band"))
    tier = forms.TypedChoiceField(required=False, label=_("Tier"), coerce=int, empty_value=None)
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, schools, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["school"].empty_label = _("All my schools")
        self.fields["grade"].choices = [("", _("All grades")), *[(grade, grade) for grade in grades]]
        self.fields["band"].choices = [("", _("All bands")), *[(band, BAND_LABELS[band]) for band in BAND_ORDER]]
        self.fields["tier"].choices = [("", _("All tiers")), *TIER_LABELS.items()]
        self.fields["sort"].choices = [(key, key) for name in SORTS for key in (name, f"-{name}")]

    def filters(self) -> RosterFilters:
        if not self.is_bound:
            return RosterFilters()
        data = self.cleaned_data if self.is_valid() else {}
        return RosterFilters(
            query=data.get("q", ""),
            school=data.get("school"),
            grade=data.get("grade", ""),
            band=data.get("band", ""),
            tier=data.get("tier"),
            sort=data.get("sort") or DEFAULT_SORT,
        )
