"""The case page's forms. Each posts on its own and comes back to the case (no script needed);
the services check everything again, so a form only shapes what a person types."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import Membership
from outreach.forms import DATE, MemberChoiceField
from outreach.models import Barrier

from .models import REVIEW_EVERY_MAX_DAYS, REVIEW_EVERY_MIN_DAYS, CaseOutcome, InterventionKind, Partner

NO_PARTNER = "none"


class CaseForm(forms.Form):
    """A form of the case page: ids of its own (`id_<form>_<field>`), since the page holds
    several forms with fields of the same name (notes, dates)."""

    form_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.form_name}_%s")
        super().__init__(*args, **kwargs)


class CaseOpenForm(forms.Form):
    lead = MemberChoiceField(label=_("Case lead"), queryset=Membership.objects.none(), empty_label=None)
    opened_on = forms.DateField(label=_("Opened on"), widget=DATE)

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = leads


class LeadForm(CaseForm):
    form_name = "lead"
    lead = MemberChoiceField(label=_("Case lead"), queryset=Membership.objects.none(), empty_label=None)

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = leads


class PlanForm(CaseForm):
    form_name = "plan"
    barriers = forms.MultipleChoiceField(
        label=_("Barriers"), choices=Barrier.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    goal_percent = forms.DecimalField(
        label=_("Target attendance rate (%)"), min_value=Decimal("1"), max_value=Decimal("100"), decimal_places=2,
        required=False, help_text=_("The share of school days the student attends, e.g. 90."),
    )  # fmt: skip
    goal_by = forms.DateField(label=_("Reach it by"), widget=DATE, required=False)
    plan_started_on = forms.DateField(label=_("Plan starts"), widget=DATE, required=False)
    review_every_days = forms.IntegerField(
        label=_("Review every (days)"), min_value=REVIEW_EVERY_MIN_DAYS, max_value=REVIEW_EVERY_MAX_DAYS,
        help_text=_("Every 2 to 4 weeks (14 to 28 days)."),
    )  # fmt: skip

    def plan_changes(self) -> dict:
        data = self.cleaned_data
        percent = data["goal_percent"]
        return {
            "barriers": data["barriers"],
            "goal_rate": (percent / 100).quantize(Decimal("0.0001")) if percent is not None else None,
            "goal_by": data["goal_by"],
            "plan_started_on": data["plan_started_on"],
            "review_every_days": data["review_every_days"],
        }


class InterventionForm(CaseForm):
    form_name = "intervention"
    kind = forms.ChoiceField(label=_("Kind"), choices=InterventionKind.choices)
    description = forms.CharField(label=_("What"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    owner = MemberChoiceField(
        label=_("Who (staff)"), queryset=Membership.objects.none(), required=False, empty_label=_("Someone else")
    )
    owner_name = forms.CharField(label=_("Who (anyone else)"), max_length=200, required=False)
    start_date = forms.DateField(label=_("Start"), widget=DATE)
    end_date = forms.DateField(label=_("End"), widget=DATE, required=False)
    frequency = forms.CharField(label=_("How often"), max_length=100, required=False)
    override_reason = forms.CharField(
        label=_("Override reason (district admins, legal referral only)"),
        widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text=_("Only to pass the support-first guard when the record cannot show the supports."),
    )  # fmt: skip

    def __init__(self, *args, owners, may_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        if not may_override:
            del self.fields["override_reason"]


class ReferralForm(CaseForm):
    form_name = "referral"
    partner = forms.ChoiceField(label=_("Partner"))
    service = forms.ChoiceField(label=_("Service (barrier)"), choices=Barrier.choices)
    referred_on = forms.DateField(label=_("Date referred"), widget=DATE)
    declined = forms.BooleanField(label=_("The family declined this referral"), required=False)
    shares_records = forms.BooleanField(
        label=_("Share the student's records with the partner (needs the guardian's consent)"), required=False
    )
    consent_given_by = forms.CharField(label=_("Consent given by"), max_length=200, required=False)
    consent_given_on = forms.DateField(label=_("Consent date"), widget=DATE, required=False)
    consent_scope = forms.CharField(
        label=_("What the consent covers"), max_length=300, required=False,
        help_text=_("e.g. attendance this school year and the contact details of the guardian"),
    )  # fmt: skip
    consent_expires_on = forms.DateField(label=_("Consent expires"), widget=DATE, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.partners = {str(p.pk): p for p in partners}
        self.fields["partner"].choices = [
            ("", _("Choose a partner")),
            *[(key, f"{p.name} ({', '.join(p.service_labels)})") for key, p in self.partners.items()],
            (NO_PARTNER, _("No partner in the directory serves this barrier")),
        ]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        choice = data.pop("partner")
        return {**data, "partner": self.partners.get(choice), "no_partner": choice == NO_PARTNER}


class ConnectForm(forms.Form):
    connected_on = forms.DateField(label=_("Connection confirmed on"), widget=DATE, required=False)
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)


class MeetingForm(CaseForm):
    form_name = "meeting"
    kind = forms.ChoiceField(
        label=_("What happened"),
        choices=[("meeting", _("A meeting was held")), ("invitation", _("The family was invited but did not come"))],
        widget=forms.RadioSelect, initial="meeting",
    )  # fmt: skip
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    family_attended = forms.BooleanField(label=_("The family took part"), required=False)
    attendees = forms.CharField(label=_("Who took part"), max_length=500, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sensitive = forms.BooleanField(
        label=_("Sensitive (health or family): notes visible only to counselors and me"), required=False
    )


class ReviewForm(CaseForm):
    form_name = "review"
    review_date = forms.DateField(label=_("Review date"), widget=DATE)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    sensitive = forms.BooleanField(
        label=_("Sensitive (health or family): notes visible only to counselors and me"), required=False
    )


class CloseForm(CaseForm):
    form_name = "close"
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("Choose the outcome")), *CaseOutcome.choices])
    closed_on = forms.DateField(label=_("Closed on"), widget=DATE)
    note = forms.CharField(label=_("Closing note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PartnerForm(forms.ModelForm):
    services = forms.MultipleChoiceField(
        label=_("Services by barrier"), choices=Barrier.choices, widget=forms.CheckboxSelectMultiple
    )
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Partner
        fields = [
            "name", "services", "eligibility", "contact_name", "phone", "email", "website", "intake_process",
            "expected_response_days", "connection_definition", "is_active",
        ]  # fmt: skip
        widgets = {
            "eligibility": forms.Textarea(attrs={"rows": 2}),
            "intake_process": forms.Textarea(attrs={"rows": 2}),
            "connection_definition": forms.Textarea(attrs={"rows": 2}),
        }


class CaseSettingsForm(forms.Form):
    review_every_days = forms.IntegerField(
        label=_("Review cases every (days)"), min_value=REVIEW_EVERY_MIN_DAYS, max_value=REVIEW_EVERY_MAX_DAYS,
        help_text=_("The default for new cases: every 2 to 4 weeks."),
    )  # fmt: skip
    plan_deadline_days = forms.IntegerField(
        label=_("Written plan due within (days of the trigger)"), min_value=1, max_value=90
    )
