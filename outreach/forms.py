"""The huddle's forms. Each row's forms get ids of their own (`id_row<pk>_<field>`), so several
open panels on one page never share a label target."""

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import Membership

from .models import Barrier, Method
from .services import RESOLUTION_REASONS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def member_label(membership: Membership) -> str:
    user = membership.user
    return user.get_full_name() or user.email


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return member_label(obj)


class MembersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return member_label(obj)


class RowForm(forms.Form):
    """Forms on a huddle row: ids unique per row."""

    def __init__(self, *args, row=None, **kwargs):
        if row is not None:
            kwargs.setdefault("auto_id", f"id_row{row.pk}_%s")
        super().__init__(*args, **kwargs)


class RowPlanForm(RowForm):
    owner = MemberChoiceField(queryset=Membership.objects.none(), required=False, empty_label=_("No owner yet"))
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_step_due = forms.DateField(label=_("Due"), required=False, widget=DATE)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class OutreachActionForm(RowForm):
    attempt_date = forms.DateField(label=_("Date"), widget=DATE)
    method = forms.ChoiceField(choices=Method.choices)
    reached = forms.TypedChoiceField(
        label=_("Reached?"), choices=[("yes", _("Yes, reached")), ("no", _("No answer / not reached"))],
        coerce=lambda value: value == "yes",
    )  # fmt: skip
    barrier = forms.ChoiceField(choices=[("", _("Not known yet")), *Barrier.choices], required=False)
    support_offered = forms.CharField(label=_("Support offered"), max_length=300, required=False)
    follow_up_date = forms.DateField(label=_("Follow up on"), required=False, widget=DATE)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sensitive = forms.BooleanField(
        label=_("Sensitive (health or family): notes visible only to counselors and me"), required=False
    )


class EscalateForm(RowForm):
    reason = forms.CharField(
        label=_("Why Tier 3?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000,
        help_text=_("The counselors read this with the Tier 2 history."),
    )  # fmt: skip


class ResolveForm(RowForm):
    reason = forms.ChoiceField(choices=[("", _("Choose a reason")), *RESOLUTION_REASONS])
    note = forms.CharField(max_length=250, required=False)
    # Shown once the figures contradicted the reason (tiers.lifecycle.ResolutionContradicted).
    confirmed = forms.BooleanField(label=_("Resolve anyway: the team has checked"), required=False)
    needs_confirmation = False


class KeepOpenForm(RowForm):
    reason = forms.CharField(
        label=_("Why keep it open?"), max_length=300,
        help_text=_("For example: court date pending, or the family asked for another check-in."),
    )  # fmt: skip


class KeepInTier2Form(RowForm):
    """The form of "keep in Tier 2 for now" on a Tier 3 escalation candidate: why, and when it comes back."""

    reason = forms.CharField(
        label=_("Why does Tier 2 continue?"), max_length=300,
        help_text=_("For example: the bus pass started last week, or the family asked for two more weeks."),
    )  # fmt: skip
    school_days = forms.IntegerField(
        label=_("Back on the agenda after (school days)"), min_value=1, max_value=40, required=False, initial=10,
        help_text=_("If the Tier 3 rule still holds then."),
    )  # fmt: skip
    review_on = forms.DateField(label=_("Or on this date"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("school_days") is None and data.get("review_on") is None:
            raise forms.ValidationError(_("Give a number of school days or a review date."))
        return data


class AttendanceForm(forms.Form):
    members = MembersChoiceField(
        label=_("Who is here"), queryset=Membership.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members
