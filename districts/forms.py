from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .audit_text import record_type_text
from .models import AuditEvent, Role, School


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False,
        help_text=_("Required for attendance leads and counselors."),
    )  # fmt: skip

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class AuditFilterForm(forms.Form):
    student = forms.CharField(
        label=_("Student"), required=False, max_length=100, help_text=_("Name or SIS id: who saw this student.")
    )
    student_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    user_email = forms.CharField(label=_("Person"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any action")), *AuditEvent.Action.choices], required=False
    )
    object_type = forms.ChoiceField(label=_("Record type"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, object_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [
            ("", _("Any record")),
            *sorted(((name, record_type_text(name)) for name in object_types), key=lambda choice: choice[1].lower()),
        ]


def add_validation_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError shown on the form that called it: on the field it names when
    the form has one, else above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class SecuritySettingsForm(forms.Form):
    api_token_days = forms.IntegerField(
        label=_("API token lifetime (days)"), min_value=1, max_value=365,
        help_text=_("A new API token stops working after this many days. Tokens already issued keep their date."),
    )  # fmt: skip
    session_idle_minutes = forms.IntegerField(
        label=_("Sign out after idle (minutes)"), min_value=5, max_value=720,
        help_text=_("A browser left alone this long is signed out; the next click asks for the password again."),
    )  # fmt: skip
