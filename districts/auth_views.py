"""Sign-in, sign-out and password reset: Django's views with a throttled email form."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from . import login_throttle
from .services import client_ip

THROTTLED = "throttled"


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        email = self.cleaned_data.get("username", "")
        ip = client_ip(self.request)
        if login_throttle.is_locked(ip, email):
            raise ValidationError(
                "Too many failed sign-in attempts. Wait a few minutes, or reset your password.", code=THROTTLED
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_throttle.record_failure(ip, email)
            raise
        login_throttle.clear(ip, email)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if any(error.code == THROTTLED for error in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Too many requests for one email (or from one address) send nothing more, but answer
    exactly as a sent one does: the page must not tell whether an address has an account."""

    def form_valid(self, form):
        if not login_throttle.reset_request_allowed(client_ip(self.request), form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
