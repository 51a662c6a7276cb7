"""The calculation policy page in the reader's language: its form (labels, help, choices, errors),
the preview's counts and sentences, the history of what each version changed, the system's note on
version 1 and the flash messages. A Spanish-speaking admin reads no English there; an
English-speaking one reads the same page in English."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from districts.models import Role
from tiers import services
from tiers.forms import PolicyForm
from tiers.models import CalculationPolicy
from tiers.preview import BAND_LABELS, TIER_LABELS

from .tiers_data import OCT_31, policy_post, tiers_year


@pytest.fixture
def year(tenant_a):
    year = tiers_year(tenant_a)
    with scope(district=year.district):
        services.compute_metrics(district=year.district, as_of=OCT_31)
    return year


def _reader(tenant, login, language: str):
    user = tenant.user(Role.DISTRICT_ADMIN)
    user.language = language
    user.save(update_fields=["language"])
    return login(user)


def url(name: str) -> str:
    return reverse(f"tiers:{name}", kwargs={"district": "alpha"})


def _text(response) -> str:
    """What a reader sees: the markup's text, entities read back, whitespace as single spaces."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _english_of_the_form() -> set[str]:
    """Every label, help text and choice the policy form shows, as an English reader sees them."""
    with translation.override("en"):
        form = PolicyForm(policy=CalculationPolicy(version=1))
        words = set()
        for name, field in form.fields.items():
            if name.endswith("__enabled"):  # the toggle shows the template's own "Use this rule"
                continue
            words |= {str(field.label), str(field.help_text)}
            words |= {str(label) for _, label in getattr(field, "choices", [])}
        words |= {str(label) for label in [*BAND_LABELS.values(), *TIER_LABELS.values()]}
    return {word for word in words if word}


# English that would show if the page's own sentences, the history or the preview stayed English.
ENGLISH = [
    "SPEC defaults", "SPEC default", "Chronic threshold", "Partial days count as", "Exit date is the",
    "turned on", "turned off", "would become chronically absent", "would no longer be", "would move up a tier",
    "would move down a tier", "would change band", "No student would change", "no change", "Chronically absent",
    "Must be above", "Enter a number", "Ensure this value", "Nothing changed", "Saved policy version",
    "Calculation policy", "Preview", "History", "students", "student ",
]  # fmt: skip


def _no_english(text: str, where: str) -> None:
    left = sorted({english for english in [*ENGLISH, *_english_of_the_form()] if english in text})
    assert not left, f"English left on {where}: {left}"


def _version_2(year, tenant_a) -> None:
    """A second version, saved by an admin: a threshold, a rule turned off, a number changed."""
    with scope(district=year.district):
        CalculationPolicy.objects.create(
            district=year.district, version=2, chronic_threshold_pct=Decimal("12.50"), partial_days="fractional",
            rules={"t2_tardies": {"enabled": False}, "t3_after_tier2": {"weeks": 6}, "t2_monday_friday": {"share_pct": "62.5"}},
            note="Acuerdo de la junta escolar", created_by=tenant_a.user(Role.DISTRICT_ADMIN),
        )  # fmt: skip


def test_a_spanish_speaking_admin_reads_the_policy_page_in_spanish(year, tenant_a, login):
    _version_2(year, tenant_a)
    text = _text(_reader(tenant_a, login, "es").get(url("policy")))

    for spanish in [
        "Criterios de cálculo",
        "En uso: versión 2",
        "Umbral de ausentismo crónico (%)",
        "Mínimo de días de clase con inscripción",
        "Por debajo de esta cifra, el porcentaje del estudiante se indica como “muy pocos días”",
        "Periodo reciente (días de clase)",
        "Días completos: un día cuenta como ausencia cuando faltó la mitad o más",
        "Fracciones de día: minutos que faltó ÷ minutos de la jornada",
        "En el SIS, la fecha de salida es",
        "El primer día sin inscripción (predeterminado de la especificación)",
        "El último día con inscripción",
        "Días de ausencia, al menos",
        "Dentro de los primeros días de clase",
        "Proporción en lunes o viernes, al menos (%)",
        "Semanas desde que empezó el plan de Nivel 2",
        "Qué cambió y por qué",
        "Se guarda con la versión, para que el equipo del próximo año lo sepa.",
        "Vista previa",
        "Guardar como versión 3 y volver a calcular",
        # the history: what version 2 changed, worked out in the reader's words
        "Umbral de ausentismo crónico: 10 % → 12,5 %",
        "Los días parciales cuentan como: días completos (regla de medio día) → fracciones de día",
        "Llegadas tarde frecuentes (t2_tardies): se desactivó",
        "(t2_monday_friday): proporción en lunes o viernes, al menos (%) 60 % → 62,5 %",
        "(t3_after_tier2): semanas desde que empezó el plan de Nivel 2 4 → 6",
        "Valores predeterminados de la especificación",  # version 1's note, written by the system
        "Acuerdo de la junta escolar",  # what the admin wrote stays as written
    ]:
        assert spanish in text, spanish
    _no_english(text, "the policy page")


def test_the_preview_partial_reads_in_spanish(year, tenant_a, login):
    admin = _reader(tenant_a, login, "es")
    data = policy_post(chronic_threshold_pct="5", t2_monday_friday__enabled=None, t3_repeat_chronic__enabled=None)
    response = admin.post(url("policy_preview"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    text = _text(response)

    for spanish in [
        "Umbral de ausentismo crónico: 10 % → 5 % — 1 estudiante pasaría a tener ausentismo crónico.",
        "Patrón de lunes y viernes (t2_monday_friday): se desactivó — Ningún estudiante cambiaría.",
        "(t3_repeat_chronic): se desactivó — 1 estudiante bajaría de nivel de apoyo.",
        "Cambio por cambio",
        "Con ausentismo crónico 1 2 +1",
        "Satisfactorio (menos del 5 %)",
        "En riesgo (5–10 %)",
        "Muy pocos días",
        "Sin nivel",
        "Nivel 3",
        "sin cambio",
    ]:
        assert spanish in text, spanish
    _no_english(text, "the preview")

    page = _text(admin.post(url("policy_preview"), policy_post(min_membership_days="60")))  # without JavaScript
    assert re.search(r"\d+ estudiantes? dejarían? de tener ausentismo crónico", page)
    _no_english(page, "the preview page")


def test_invalid_settings_are_explained_in_spanish(year, tenant_a, login):
    admin = _reader(tenant_a, login, "es")
    data = policy_post(t2_at_risk_rate__rate_low="12", chronic_threshold_pct="abc", recent_window="2")
    fragment = _text(admin.post(url("policy_preview"), data, headers={"HX-Request": "true"}))
    assert "Corrija estos valores para ver la vista previa:" in fragment
    assert "Hasta, sin incluir (%): Debe ser mayor que el porcentaje desde el que empieza la regla." in fragment
    assert "Umbral de ausentismo crónico (%): Introduzca un número." in fragment
    assert "Periodo reciente (días de clase): Asegúrese de que este valor es mayor o igual a 5." in fragment
    _no_english(fragment, "the preview's errors")

    refused = admin.post(url("policy"), data)
    assert refused.status_code == 400
    _no_english(_text(refused), "the refused form")


def test_the_flash_messages_read_in_spanish(year, tenant_a, login):
    admin = _reader(tenant_a, login, "es")
    unchanged = _text(admin.post(url("policy"), policy_post(), follow=True))
    assert "No cambió nada, así que no se guardó una nueva versión." in unchanged
    _no_english(unchanged, "the page after saving nothing")

    saved = _text(admin.post(url("policy"), policy_post(chronic_threshold_pct="8"), follow=True))
    assert "Se guardó la versión 2 de los criterios de cálculo." in saved and "Saved policy" not in saved


def test_an_english_speaking_admin_reads_the_same_page_in_english(year, tenant_a, login):
    _version_2(year, tenant_a)
    admin = _reader(tenant_a, login, "en")
    text = _text(admin.get(url("policy")))
    for english in [
        "Chronic threshold: 10% → 12.5%",
        "Partial days count as: whole days (half-day rule) → fractional days",
        "Frequent tardies (t2_tardies): turned off",
        "(t2_monday_friday): share on a Monday or Friday, at least (%) 60% → 62.5%",
        "(t3_after_tier2): weeks after the Tier 2 plan began 4 → 6",
        "SPEC defaults",
        "The first day not enrolled (SPEC default)",
        "Below this a student's rate is reported as “too few days”, never as chronic.",
    ]:
        assert english in text, english
    data = policy_post(chronic_threshold_pct="5", t2_monday_friday__enabled=None, t3_repeat_chronic__enabled=None)
    fragment = _text(admin.post(url("policy_preview"), data, headers={"HX-Request": "true"}))
    assert "Chronic threshold: 12.5% → 5% — 1 student would become chronically absent." in fragment  # from v2
    assert "Frequent tardies (t2_tardies): turned on — No student would change." in fragment
    assert "Chronic two years running (t3_repeat_chronic): turned off — 1 student would move down a tier." in fragment
    assert "Satisfactory (under 5%)" in fragment and "No tier" in fragment


def test_a_note_an_admin_wrote_as_spec_defaults_stays_as_written(year, tenant_a):
    with scope(district=year.district):
        system = CalculationPolicy.objects.get(version=1)
    written = CalculationPolicy(version=2, note="SPEC defaults", created_by=tenant_a.user(Role.DISTRICT_ADMIN))
    with translation.override("es"):
        assert system.note_text == "Valores predeterminados de la especificación"
        assert written.note_text == "SPEC defaults"
