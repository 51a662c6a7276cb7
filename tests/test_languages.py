"""The interface in English or Spanish: the header's switch, a person's saved choice, the
browser's language, the html lang attribute, and dates and numbers in the reader's format."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from languages.family import family_language


@pytest.fixture
def lead(tenant_a):
    return tenant_a.user("attendance_lead")


def test_the_switch_saves_a_signed_in_persons_choice(login, lead):
    client = login(lead)
    response = client.post(reverse("language_set"), {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    lead.refresh_from_db()
    assert lead.language == "es"
    assert response.cookies["attendnc_language"].value == "es"


def test_a_saved_choice_follows_the_person_to_a_new_browser(client, lead):
    lead.language = "es"
    lead.save()
    client.force_login(lead)
    page = client.get(reverse("home"), follow=True, HTTP_ACCEPT_LANGUAGE="en-US,en")
    html = page.content.decode()
    assert '<html lang="es">' in html
    assert "Cerrar sesión" in html and "Sign out" not in html
    assert page["Content-Language"] == "es"


def test_without_a_choice_the_browser_language_is_used(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert '<html lang="es">' in page.content.decode()
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="en">' in page.content.decode()


def test_the_switch_works_before_signing_in(client):
    response = client.post(reverse("language_set"), {"language": "es", "next": reverse("login")})
    assert response["Location"] == reverse("login")
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="es">' in page.content.decode()


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(login, lead):
    client = login(lead)
    assert client.post(reverse("language_set"), {"language": "xx"}).status_code == 400
    lead.refresh_from_db()
    assert lead.language == ""
    response = client.post(reverse("language_set"), {"language": "es", "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_the_switch_is_post_only(client):
    assert client.get(reverse("language_set") + "?language=es").status_code == 405


def test_the_header_offers_the_other_language_in_its_own_words(login, lead):
    html = login(lead).get(reverse("home"), follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="es"' in html and "Español" in html


def test_dates_and_numbers_follow_the_reader(settings):
    template = Template('{% load l10n %}{{ day|date:"DATE_FORMAT" }} · {{ rate|floatformat:1 }}')
    context = Context({"day": datetime.date(2026, 9, 4), "rate": 12.25})
    with translation.override("en"):
        assert template.render(context) == "Sept. 4, 2026 · 12.3"
    with translation.override("es"):
        assert template.render(context) == "4 de septiembre de 2026 · 12,3"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("Spanish", "es"),
        ("Español", "es"),
        (" spa ", "es"),
        ("es-MX", "es"),
        ("uri://ed-fi.org/LanguageDescriptor#spa", "es"),
        ("English", "en"),
        ("", "en"),
        ("Vietnamese", "vi"),
        ("Mandarin", "zh"),
        ("Kinyarwanda", "kinyarwanda"),
    ],
)
def test_a_guardians_language_is_read_however_the_sis_spells_it(raw, code):
    assert family_language(raw) == code
