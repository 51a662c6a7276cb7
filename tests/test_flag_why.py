"""A flag's why is stored as a code and figures and read in the reader's language."""

from django.utils import translation

from tiers.models import Flag
from tiers.why import ESCALATED, TEXT, why_render

CHRONIC = {"absent": 9, "membership": 50, "rate": 0.18, "threshold": 0.1}
RECENT = {"window": 20, "dates": ["2025-10-06", "2025-10-13", "2025-10-20", "2025-10-27"]}


def test_a_why_reads_in_english_and_in_spanish():
    with translation.override("en"):
        assert why_render("t2_chronic", CHRONIC) == (
            "Absent 9 days of 50 school days (18.0%): at or above the 10.0% chronic threshold"
        )
        assert why_render("t2_recent_absences", RECENT) == (
            "4 days absent in the last 20 school days: Oct 6, Oct 13, Oct 20, Oct 27"
        )
    with translation.override("es"):
        assert why_render("t2_chronic", CHRONIC) == (
            "Faltó 9 días de 50 días de clase (18,0 %): alcanza o supera el umbral de ausentismo crónico del 10,0 %"
        )
        assert why_render("t2_recent_absences", RECENT) == (
            "4 días de ausencia en los últimos 20 días de clase: 6 Oct, 13 Oct, 20 Oct, 27 Oct"
        )


def test_fractional_days_keep_their_decimals_in_the_readers_format():
    params = CHRONIC | {"absent": 2.5}
    with translation.override("en"):
        assert why_render("t2_chronic", params).startswith("Absent 2.5 days of 50")
    with translation.override("es"):
        assert why_render("t2_chronic", params).startswith("Faltó 2,5 días de 50")


def test_an_escalation_keeps_the_teams_words_and_dates_the_readers_way():
    params = {"school": "Lincoln MS", "date": "2026-01-15", "reason": "Tres semanas sin mejora", "history": ""}
    with translation.override("es"):
        text = why_render(ESCALATED, params)
    assert (
        text
        == "El equipo de asistencia de Lincoln MS lo pasó al Nivel 3 el 15 de enero de 2026: Tres semanas sin mejora."
    )


def test_prose_from_before_codes_and_a_persons_text_show_as_written():
    flag = Flag(rule="t2_chronic", why="Absent a lot")
    assert (flag.why_code, flag.why_params) == (TEXT, {"text": "Absent a lot"})
    with translation.override("es"):
        assert flag.why == "Absent a lot"
