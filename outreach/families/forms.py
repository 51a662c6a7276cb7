from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MessageKind


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}))
    preview_student = forms.CharField(
        label=_("Preview with the student (SIS id)"), max_length=64, required=False,
        help_text=_("A real student of the district; their figures fill the fields. Nothing is sent."),
    )  # fmt: skip


class NewTemplateForm(TemplateForm):
    kind = forms.ChoiceField(label=_("What it is for"), choices=MessageKind.choices)
    tier = forms.TypedChoiceField(
        label=_("Tier"), coerce=int, choices=[(1, _("Tier 1")), (2, _("Tier 2")), (3, _("Tier 3"))]
    )
    language = forms.CharField(
        label=_("Language code"), max_length=16, help_text=_("For example es (Spanish), vi (Vietnamese), ar (Arabic).")
    )

    field_order = ["kind", "tier", "language", "subject", "body", "preview_student"]


class ContactForm(forms.Form):
    """Whom families call: the district's default, or one school's own person (the school's
    choices are set by the view). Both fields empty for a school: back to the district's."""

    school = forms.ChoiceField(label=_("For"), required=False)
    name = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", _("Every school without its own contact"))] + [
            (str(school.pk), school.name) for school in schools
        ]


class LanguageLineForm(forms.Form):
    language = forms.CharField(label=_("Language code"), max_length=16)
    text = forms.CharField(
        label=_("Line in that language"), max_length=500, required=False,
        help_text=_("Added above the English message for families who read this language. Leave empty to remove."),
    )  # fmt: skip


class LetterBatchForm(forms.Form):
    school = forms.ChoiceField(label=_("School"))
    selection = forms.ChoiceField(
        label=_("Who gets a letter"),
        choices=[
            ("absences:2", _("Every student with 2 or more absent days")),
            ("absences:5", _("Every student with 5 or more absent days")),
            ("band:at_risk", _("At risk (5–9% absent)")),
            ("band:moderate", _("Chronically absent, moderate (10–19%)")),
            ("band:severe", _("Chronically absent, severe (20–29%)")),
            ("flag:t2_recent_absences", _("Flagged for recent absences")),
            ("section:new", _("Newly flagged on this week's huddle")),
        ],
    )
    as_of = forms.DateField(label=_("Figures as of"), widget=forms.DateInput(attrs={"type": "date"}))
    again = forms.BooleanField(label=_("Print again even if this batch was already printed"), required=False)
