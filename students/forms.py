from django import forms

from districts.models import School


class RosterFilterForm(forms.Form):
    q = forms.CharField(label="Name or student id", required=False)
    school = forms.ModelChoiceField(queryset=School.objects.none(), required=False, empty_label="All my schools")
    grade = forms.ChoiceField(required=False)

    def __init__(self, *args, schools, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["grade"].choices = [("", "All grades"), *[(grade, grade) for grade in grades]]
