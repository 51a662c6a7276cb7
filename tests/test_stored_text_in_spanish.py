"""What is stored in English and read later in either language: the audit log's record types and
labels, the code map's default descriptions, an import's undo refusals and a metrics run's error.
A Spanish-speaking admin reads each in Spanish; an English-speaking one still in English."""

import ast
import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from districts.audit_text import EXPORTS, RECORD_TYPES, label_text, record_type_text
from districts.models import AuditEvent, Role, RoleGrant
from districts.services import audit_record
from imports import services as import_services
from imports.messages import error_text
from imports.models import ImportRun
from students.models import AttendanceCategory, AttendanceCode
from students.services import attendance_codes_install_defaults
from tiers.models import MetricsRun
from tiers.services import metrics_run_create

from .import_support import _media_in_tmp, build_year, run_import, school_days, write_csv  # noqa: F401

OPEN_DAYS = [day for day, open_ in school_days() if open_]


def _reader(tenant, login, language: str):
    user = tenant.user(Role.DISTRICT_ADMIN)
    user.language = language
    user.save(update_fields=["language"])
    return login(user)


# --- the audit log ------------------------------------------------------------------------------


def _audit_entries(district):
    with scope(district=district):
        for object_type, label in [
            ("roster", ""),
            ("import_run", "Undo of import #12 (run #13)"),
            ("case_queue", "Tier 3 queue"),
            ("held_rows", "3 held rows discarded: The vendor's test building"),
            ("export:outreach.huddle_pdf", "Huddle"),
        ]:
            audit_record(
                district=district, user=None, action=AuditEvent.Action.VIEW, object_type=object_type,
                object_label=label,
            )  # fmt: skip


def test_a_spanish_speaking_admin_reads_the_audit_log_in_spanish(tenant_a, login):
    _audit_entries(tenant_a.district)
    page = _reader(tenant_a, login, "es").get(reverse("districts:audit_log", kwargs={"district": "alpha"}))
    html = page.content.decode()

    for spanish in [
        "Lista de estudiantes",  # roster
        "Importación: Deshacer la importación n.º 12 (proceso n.º 13)",
        "Lista de espera de Nivel 3: Lista de espera de Nivel 3",
        "Filas retenidas: 3 filas retenidas descartadas: The vendor&#x27;s test building",  # the note as written
        "Exportación: PDF de la reunión semanal",
        "Tipo de registro",
        "Cualquier tipo",
        "Cualquier acción",
        "Hasta",
    ]:
        assert spanish in html, spanish
    for english in [
        "<td>roster",
        ">roster<",
        "Undo of import",
        "held rows discarded",
        "Any record",
        "Any action",
        "Record type",
    ]:
        assert english not in html, english


def test_an_english_speaking_admin_reads_the_same_entries_in_english(tenant_a, login):
    _audit_entries(tenant_a.district)
    html = _reader(tenant_a, login, "en").get(reverse("districts:audit_log", kwargs={"district": "alpha"}))
    html = html.content.decode()
    assert "Import: Undo of import #12 (run #13)" in html and "Roster" in html
    assert "Held rows: 3 held rows discarded: The vendor&#x27;s test building" in html
    assert "Export: Huddle PDF" in html and "Any record" in html


def test_a_label_the_sources_did_not_write_stays_as_written():
    with translation.override("es"):
        assert label_text("student", "Ana Ruiz (S1)") == "Ana Ruiz (S1)"
        assert label_text("case", "Case of Ana Ruiz closed") == "Caso de Ana Ruiz cerrado"
        assert label_text("caseload", "Mis casos", {"view": "closed"}) == "Casos cerrados"
        assert record_type_text("something_new") == "something_new"
        assert record_type_text("admin:students.student") == "Administración de Django: students.student"


AUDIT_CALLS = {"audit_record", "students_shown", "_audit", "_shown", "students_seen_record", "_export"}


def _logged_record_types() -> set[str]:
    """Every record type the sources log as a literal: `what=`/`object_type=` of the audit calls,
    the type the apps' own `_audit`/`_shown`/`_export` helpers take by position (a lower-case
    code; their labels are sentences), and `audit_what`."""
    root = Path(settings.BASE_DIR)
    found = set()
    for path in root.rglob("*.py"):
        if set(path.relative_to(root).parts) & {".venv", "tests", "bench", "migrations", "node_modules"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in AUDIT_CALLS:
                found |= {
                    kw.value.value
                    for kw in node.keywords
                    if kw.arg in ("what", "object_type") and isinstance(kw.value, ast.Constant)
                }
                found |= {
                    arg.value
                    for arg in node.args[1:3]
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and re.fullmatch(r"[a-z_]+", arg.value)
                }
            elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                targets = [t for target in node.targets for t in getattr(target, "elts", [target])]
                found |= {
                    value.value
                    for target, value in zip(targets, values)
                    if (getattr(target, "id", None) or getattr(target, "attr", None)) == "audit_what"
                    and isinstance(value, ast.Constant)
                }
    return {value for value in found if value}


def test_every_record_type_the_sources_log_has_words():
    logged = _logged_record_types()
    assert {"roster", "huddle", "huddle_row", "case", "pulse_equity", "flag_list_api", "family messages"} <= logged
    missing = sorted(logged - set(RECORD_TYPES))
    assert not missing, f"record types without words in districts/audit_text.py: {missing}"


def test_every_export_renderer_has_words():
    from exports.registry import _renderers

    assert set(_renderers) - {"tests.roster_txt"} <= set(EXPORTS)


# --- the code map -------------------------------------------------------------------------------


def test_default_descriptions_are_stored_in_english_and_read_in_the_readers_language(tenant_a, login):
    with translation.override("es"), scope(district=tenant_a.district):  # installed while Spanish is active
        attendance_codes_install_defaults(district=tenant_a.district)
        AttendanceCode.objects.create(
            district=tenant_a.district, code="X", category=AttendanceCategory.ABSENT_EXCUSED, description="Field trip"
        )
        stored = dict(AttendanceCode.objects.values_list("code", "description"))
    assert stored["E"] == "Absent, excused" and stored["H"] == "Partial day"

    url = reverse("imports:codes", kwargs={"district": "alpha"})
    spanish = _reader(tenant_a, login, "es").get(url).content.decode()
    assert "<td>Ausente, justificado</td><td>Ausente, justificado</td>" in spanish
    assert "<td>Día parcial</td><td>Día parcial</td>" in spanish
    assert "Absent, excused" not in spanish and "Partial day" not in spanish
    assert "Field trip" in spanish  # what the district wrote stays as written

    english = _reader(tenant_a, login, "en").get(url).content.decode()
    assert "<td>Absent, excused</td><td>Absent, excused</td>" in english


def test_a_default_description_stored_in_spanish_reads_in_english_too(tenant_a):
    code = AttendanceCode(code="T", category=AttendanceCategory.TARDY, description="Llegada tarde")
    with translation.override("en"):
        assert code.description_text == "Tardy"
    code.description = "Late bus"
    with translation.override("es"):
        assert code.description_text == "Late bus"


# --- undo refusals ------------------------------------------------------------------------------


@pytest.fixture
def year(tenant_a, tmp_path):
    return build_year(tenant_a.district, tmp_path)


def _attendance(district, tmp_path, name, rows):
    return run_import(district, write_csv(tmp_path / name, "attendance.csv", "student_id,school_id,date,code", rows))


def test_a_spanish_speaking_admin_reads_why_an_import_cannot_be_undone(year, tmp_path, tenant_a, login):
    folder = tmp_path / "new"
    write_csv(folder, "students.csv", "student_id,first_name,last_name", [("S7", "Gia", "New")])
    added = run_import(year, folder)
    write_csv(tmp_path / "stay", "enrollments.csv", "student_id,school_id,entry_date", [("S7", "MS1", "2025-09-01")])
    run_import(year, tmp_path / "stay")
    admin = _reader(tenant_a, login, "es")
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": added.pk})

    page = admin.get(url).content.decode()
    assert "1 inscripción depende ahora de estudiantes que agregó esta importación, y se perdería." in page
    assert "now refer" not in page and "enrollment" not in page

    response = admin.post(reverse("imports:run_undo", kwargs={"district": "alpha", "import_run_id": added.pk}))
    shown = admin.get(response["Location"]).content.decode()
    assert "1 inscripción depende ahora de estudiantes" in shown and "now refer" not in shown


def test_a_refusal_the_worker_stored_reads_in_each_readers_language(year, tmp_path, tenant_a, login):
    """The undo was asked for, then an import of the same rows landed before the worker ran it:
    the worker stores the refusal as a code, read in Spanish and in English."""
    first = _attendance(year, tmp_path, "first", [("S1", "MS1", OPEN_DAYS[5], "E")])
    with scope(district=year):
        undo = import_services.import_run_undo_create(run=first)
    later = _attendance(year, tmp_path, "later", [("S1", "MS1", OPEN_DAYS[5], "T")])
    with scope(district=year):
        undo = import_services.import_run_process(run=undo)
    assert undo.status == ImportRun.Status.REJECTED and undo.errors[0]["code"] == "undo.later_import"

    with translation.override("es"):
        assert error_text(undo.errors[0]) == (
            f"La importación n.º {later.pk}, posterior a esta, cambió o quitó 1 registro de asistencia que "
            f"escribió esta importación: deshaga primero la n.º {later.pk}."
        )
    url = reverse("imports:run_detail", kwargs={"district": "alpha", "import_run_id": undo.pk})
    spanish = _reader(tenant_a, login, "es").get(url).content.decode()
    assert "cambió o quitó 1 registro de asistencia" in spanish and "changed or removed" not in spanish
    english = _reader(tenant_a, login, "en").get(url).content.decode()
    assert f"Import #{later.pk}, after this one, changed or removed 1 attendance record this import wrote" in english


def test_every_row_an_undo_may_name_has_words():
    """The tables an undo writes back, and every table whose rows may refer to them (the refusal
    counts those): a model added later with a key to a student or school needs its words."""
    from django.apps import apps

    from imports.messages import _ROWS, _ROWS_NAMED
    from imports.undo import ORDER

    referring = {
        relation.related_model._meta.label_lower
        for label in ORDER
        for relation in apps.get_model(label)._meta.related_objects
        if relation.one_to_many or relation.one_to_one
    }
    assert set(ORDER) <= set(_ROWS_NAMED)
    assert not (set(ORDER) | referring) - set(_ROWS), sorted((set(ORDER) | referring) - set(_ROWS))


# --- a metrics run's error ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored, spanish, english",
    [
        (
            "interrupted",
            "El cálculo se detuvo sin terminar (el proceso que lo hacía se detuvo, o ninguno lo tomó a tiempo).",
            "The run stopped without finishing (its worker stopped, or none took it in time).",
        ),
        ("stopped", "El cálculo se detuvo sin terminar.", "The run stopped without finishing."),
        (
            "not_queued:Error 111 connecting to redis",
            "No se pudo poner el cálculo en la cola (Error 111 connecting to redis). Vuelva a intentarlo",
            "The run could not be queued (Error 111 connecting to redis). Retry it once the broker is back.",
        ),
        (  # stored as an English sentence before the codes
            "The run could not be queued (Connection refused). Retry it once the broker is back.",
            "No se pudo poner el cálculo en la cola (Connection refused).",
            "The run could not be queued (Connection refused). Retry it once the broker is back.",
        ),
        (
            "The run stopped without finishing.",
            "El cálculo se detuvo sin terminar.",
            "The run stopped without finishing.",
        ),
        (  # an exception's own text, inside a sentence of the reader's language
            "division by zero",
            "El cálculo se detuvo por un error inesperado: division by zero",
            "The run stopped on an unexpected error: division by zero",
        ),
    ],
)
def test_a_failed_runs_error_reads_in_the_readers_language(tenant_a, login, stored, spanish, english):
    with scope(district=tenant_a.district):
        run = metrics_run_create(district=tenant_a.district, as_of=datetime.date(2025, 10, 31), trigger="manual")
        MetricsRun.objects.filter(pk=run.pk).update(
            status=MetricsRun.Status.FAILED, step="failed", error=stored, finished_at=run.created_at
        )
    url = reverse("tiers:run_detail", kwargs={"district": "alpha", "run_id": run.pk})
    assert spanish in _reader(tenant_a, login, "es").get(url).content.decode()
    assert english in _reader(tenant_a, login, "en").get(url).content.decode()


def test_the_sweep_and_the_broker_store_codes_not_sentences(tenant_a, monkeypatch):
    from tiers import services

    with scope(district=tenant_a.district):
        run = metrics_run_create(district=tenant_a.district, as_of=datetime.date(2025, 10, 31), trigger="manual")
        MetricsRun.objects.filter(pk=run.pk).update(
            status=MetricsRun.Status.RUNNING, started_at=run.created_at - datetime.timedelta(days=1)
        )
    monkeypatch.setattr(services, "stuck", lambda runs, running_limit: runs.filter(pk=run.pk))
    with scope(district=tenant_a.district):
        assert services.metrics_runs_fail_stuck() == 1
        run.refresh_from_db()
    assert run.error == "interrupted"
    with translation.override("es"):
        assert run.error_text.startswith("El cálculo se detuvo sin terminar")


# --- English labels next to these pages: the people page's form and refusal, the recompute form --


def test_the_people_page_and_the_recompute_form_read_in_spanish(tenant_a, login):
    admin = _reader(tenant_a, login, "es")
    people = admin.get(reverse("districts:people", kwargs={"district": "alpha"})).content.decode()
    for spanish in ["Correo electrónico", "Apellido", "Función", "Obligatoria para responsables de asistencia"]:
        assert spanish in people, spanish
    assert ">First name<" not in people and "Required for attendance leads" not in people

    with scope(district=tenant_a.district):
        grant = RoleGrant.objects.get(membership__user=tenant_a.user(Role.DISTRICT_ADMIN))
    url = reverse("districts:role_grant_remove", kwargs={"district": "alpha", "grant_id": grant.pk})
    refused = admin.post(url, follow=True).content.decode()
    assert "No puede quitarse a sí mismo la función de administrador" in refused

    runs = admin.get(reverse("tiers:runs", kwargs={"district": "alpha"})).content.decode()
    assert "Normalmente ayer, el último día completo de asistencia." in runs and "Normally yesterday" not in runs
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    started = admin.post(reverse("tiers:run_start", kwargs={"district": "alpha"}), {"as_of": future}, follow=True)
    assert "Elija hoy o un día anterior" in started.content.decode()
