"""The two emails a district sends when it adds someone: a new account's link to set a first
password (Django's password-reset token), and an invitation for an existing account. Sent
through the configured email backend, in the recipient's language when they chose one."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def _absolute(base_url: str, path: str) -> str:
    return (base_url or settings.SITE_URL).rstrip("/") + path


def _send(*, template: str, to: str, language: str, context: dict) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"districts/email/{template}_subject.txt", context).split())
        body = render_to_string(f"districts/email/{template}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def welcome_email_send(*, membership, base_url: str = "") -> None:
    user = membership.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    context = {"district": membership.district, "user": user, "link": _absolute(base_url, path),
               "login": _absolute(base_url, reverse("login"))}  # fmt: skip
    _send(template="welcome", to=user.email, language=user.language, context=context)


def invitation_email_send(*, invitation, token: str, language: str = "", base_url: str = "") -> None:
    path = reverse("invitation", kwargs={"token": token})
    context = {"district": invitation.district, "invitation": invitation, "link": _absolute(base_url, path)}
    _send(template="invitation", to=invitation.email, language=language, context=context)
