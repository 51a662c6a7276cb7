import re

from django import forms
from django.utils.translation import gettext_lazy as _

from districts.models import Membership

from .models import Student


class MentorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.user.get_full_name() or obj.user.email


class MentorAssignForm(forms.Form):
    mentor = MentorChoiceField(queryset=Membership.objects.none(), label=_("Mentor"), empty_label=_("Choose a mentor…"))
    students = forms.CharField(
        label=_("Student ids"),
        help_text=_(
            "The students' ids from your student information system, separated by spaces, commas or new lines."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, mentors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = mentors

    def clean_students(self):
        ids = [part for part in re.split(r"[\s,;]+", self.cleaned_data["students"]) if part]
        found = {student.sis_id: student for student in Student.objects.filter(sis_id__in=ids)}
        unknown = [sis_id for sis_id in ids if sis_id not in found]
        if unknown:
            raise forms.ValidationError(_("No student has the id %(ids)s.") % {"ids": ", ".join(unknown[:20])})
        return list(found.values())


class MentorUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Two columns: student_id (the SIS id) and mentor_email. Nothing is saved unless every row is right."
        ),
    )
