"""Forms of the support-request pages; the services check everything again."""

import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from districts.models import Membership, School
from outreach.forms import DATE, MemberChoiceField

from .models import SupportCategory


class SupportRequestForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none(), empty_label=None)
    category = forms.ChoiceField(label=_("Category"), choices=SupportCategory.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What do you need from the district?"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000
    )
    student_sis_ids = forms.CharField(
        label=_("Students (optional)"), required=False, max_length=2000,
        help_text=_("SIS ids of the students this is about, separated by commas or spaces."),
    )  # fmt: skip

    def __init__(self, *args, schools, students, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self._students = students  # the students the requester may name

    def clean_student_sis_ids(self) -> list:
        ids = [part for part in re.split(r"[\s,;]+", self.cleaned_data["student_sis_ids"]) if part]
        found = {student.sis_id: student for student in self._students.filter(sis_id__in=ids)}
        unknown = [sis_id for sis_id in ids if sis_id not in found]
        if unknown:
            raise forms.ValidationError(
                gettext("No student you work with has the SIS id %(ids)s.") % {"ids": ", ".join(unknown)}
            )
        return list(found.values())


class AssignForm(forms.Form):
    owner = MemberChoiceField(
        label=_("Owner at the district"), queryset=Membership.objects.none(), required=False,
        empty_label=_("Nobody yet"),
    )  # fmt: skip
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE)

    def __init__(self, *args, owners, **kwargs):
        kwargs.setdefault("auto_id", "id_assign_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("How was it resolved?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_resolve_%s")
        super().__init__(*args, **kwargs)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, label=None, name="comment", **kwargs):
        kwargs.setdefault("auto_id", f"id_{name}_%s")
        super().__init__(*args, **kwargs)
        if label:
            self.fields["body"].label = label


STATUS_FILTERS = [
    ("open", _("Open")),
    ("overdue", _("Overdue")),
    ("resolved", _("Resolved")),
    ("", _("All")),
]
