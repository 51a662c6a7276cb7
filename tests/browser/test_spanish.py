"""The interface in Spanish: an attendance lead switches in the header and works through the main
pages with no English left on them, the right `lang`, and no axe violations (WCAG 2.1 AA)."""

import re

from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from districts.models import Role, User
from students.demo_accounts import DEMO_ACCOUNTS
from students.models import Student

DEMO_EMAIL = {role: email for email, role, _, _ in DEMO_ACCOUNTS}

# Words of the interface that would show on these pages if a string had been left untranslated
# (student and school names are data and stay as they are).
ENGLISH = re.compile(
    r"\b(Weekly huddle|Sign out|Skip to main content|Students|Download (PDF|CSV)|Log (an )?action|Mark discussed|"
    r"Timeline|This year so far|Attendance this year|Guardians|Search|Owner|Next step|Figures as of|Escalate|Resolve|"
    r"Letters|Who gets a letter|Prepare the letters|Days missed|absent|school days|Tier [123]|huddle)\b"
)


def _visible_text(page) -> str:
    return page.locator("body").inner_text()


def _check(page, assert_accessible, path: str) -> None:
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    leftover = ENGLISH.findall(_visible_text(page))
    assert not leftover, f"English left on {path}: {sorted({match[0] for match in leftover})}"
    assert_accessible(page)


def test_a_lead_works_in_spanish(page, console, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.ATTENDANCE_LEAD])
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    assert User.objects.get(email=DEMO_EMAIL[Role.ATTENDANCE_LEAD]).language == "es"

    with scope(district=demo_district):
        student = Student.objects.filter(enrollments__school__sis_id="MS-200").order_by("sis_id").first()
    slug = demo_district.slug
    for path in [
        reverse("outreach:huddle_current", kwargs={"district": slug}),
        reverse("outreach:roster", kwargs={"district": slug}),
        reverse("students:student_detail", kwargs={"district": slug, "student_id": student.pk}),
        reverse("outreach:student_timeline", kwargs={"district": slug, "student_id": student.pk}),
        reverse("outreach:letters", kwargs={"district": slug}),
    ]:
        _check(page, assert_accessible, path)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


# Words of the import pages that would show if a string, a label or a stored message had stayed English.
IMPORTS_ENGLISH = re.compile(
    r"\b(Upload|History|Held rows|Unknown schools|Column mappings|Import health|Imported|Rejected|Canonical CSV|"
    r"Browser upload|Command line|Any reason|What each file did|Prior_year|Guardians|Enrollments|Code '|"
    r"No school with SIS id|No student with SIS id|is not in the district's code map|Replay|Map and replay|"
    r"Absent, excused|Absent, unexcused|Out-of-school suspension|In-school suspension|Early dismissal|Partial day)\b"
)
# The audit log's record types, labels and filter, and a failed metrics run's error, as stored in English.
AUDIT_ENGLISH = re.compile(
    r"\b(roster|import_health|import_run|held_rows|held rows discarded|Undo of import|Any record|Any action|"
    r"Record type|Roster|Held rows|stopped without finishing|could not be queued|unexpected error)\b"
)


def test_an_admin_reads_the_import_pages_in_spanish(page, console, demo_district, sign_in, assert_accessible):
    from imports.models import ImportRun

    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    with scope(district=demo_district):
        run = ImportRun.objects.filter(rows_quarantined__gt=0).first()
    slug = demo_district.slug
    for path in [
        reverse("imports:index", kwargs={"district": slug}),
        reverse("imports:run_detail", kwargs={"district": slug, "import_run_id": run.pk}),
        reverse("imports:held", kwargs={"district": slug}),
        reverse("imports:unknown_schools", kwargs={"district": slug}),
        reverse("imports:codes", kwargs={"district": slug}),
    ]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        leftover = IMPORTS_ENGLISH.findall(_visible_text(page))
        assert not leftover, f"English left on {path}: {sorted({match for match in leftover})}"
        assert_accessible(page)
    page.goto(reverse("imports:held", kwargs={"district": slug}))
    expect(page.get_by_text("No hay ninguna escuela con el número del SIS 'HMS'.").first).to_be_visible()

    # The audit log (what the pages above logged, and an undo asked for) and a recompute that failed.
    from districts.models import AuditEvent
    from districts.services import audit_record
    from tiers.models import MetricsRun
    from tiers.services import metrics_run_create

    with scope(district=demo_district):
        audit_record(
            district=demo_district, user=None, action=AuditEvent.Action.CHANGE, object_type="import_run",
            object_id=run.pk, object_label=f"Undo of import #{run.pk} (run #{run.pk + 1})",
        )  # fmt: skip
        failed = metrics_run_create(district=demo_district, as_of=run.created_at.date(), trigger="manual")
        MetricsRun.objects.filter(pk=failed.pk).update(
            status=MetricsRun.Status.FAILED, step="interrupted", error="interrupted", finished_at=failed.created_at
        )
    for path in [
        reverse("districts:audit_log", kwargs={"district": slug}),
        reverse("tiers:run_detail", kwargs={"district": slug, "run_id": failed.pk}),
    ]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        leftover = AUDIT_ENGLISH.findall(_visible_text(page))
        assert not leftover, f"English left on {path}: {sorted(set(leftover))}"
        assert_accessible(page)
    page.goto(reverse("districts:audit_log", kwargs={"district": slug}))
    expect(page.get_by_text(f"Deshacer la importación n.º {run.pk}").first).to_be_visible()
    page.goto(reverse("tiers:run_detail", kwargs={"district": slug, "run_id": failed.pk}))
    expect(page.get_by_text("El cálculo se detuvo sin terminar").first).to_be_visible()


# Words of the calculation policy page (its form, preview and history) that would show if a label,
# a choice, a sentence of the preview or a history entry had stayed English.
POLICY_ENGLISH = re.compile(
    r"\b(Calculation policy|Counting|Chronic absence threshold|Minimum school days|Recent window|Partial days|"
    r"Whole days|Fractional days|exit date|SPEC defaults?|Use this rule|Absent days|at least|Within the|Preview|"
    r"What changed|History|Chronic threshold|turned (on|off)|would (become|no longer|move|change)|"
    r"No student would change|no change|Chronically absent|Satisfactory|At risk|Moderate|Severe|Acute|"
    r"Too few days|No tier|Tier [23]|students?|Saved policy version)\b"
)


def test_an_admin_reads_the_policy_page_in_spanish(page, console, demo_district, sign_in, assert_accessible):
    sign_in(page, DEMO_EMAIL[Role.DISTRICT_ADMIN])
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto(reverse("tiers:policy", kwargs={"district": demo_district.slug}))
    expect(page.get_by_role("heading", level=1)).to_have_text("Criterios de cálculo")

    def no_english(where: str) -> None:
        leftover = POLICY_ENGLISH.findall(_visible_text(page))
        assert not leftover, f"English left on the policy page ({where}): {sorted({match[0] for match in leftover})}"

    no_english("as it opens")
    assert_accessible(page)

    # The live preview (htmx) of two changes, in Spanish.
    page.get_by_label("Umbral de ausentismo crónico (%)").fill("8")
    preview = page.locator("#policy-preview")
    expect(preview).to_contain_text("Umbral de ausentismo crónico: 10 % → 8 %")
    expect(preview.get_by_role("table")).to_contain_text("Con ausentismo crónico")
    page.get_by_role("group", name=re.compile("Llegadas tarde frecuentes")).get_by_label("Usar esta regla").uncheck()
    expect(preview).to_contain_text("Llegadas tarde frecuentes (t2_tardies): se desactivó")
    no_english("with the preview")
    assert_accessible(page)

    page.get_by_label("Qué cambió y por qué").fill("Acuerdo de la junta escolar")
    page.get_by_role("button", name="Guardar como versión 2 y volver a calcular").click()
    expect(page.get_by_text("Se guardó la versión 2 de los criterios de cálculo")).to_be_visible()
    page.goto(reverse("tiers:policy", kwargs={"district": demo_district.slug}))
    history = page.get_by_role("table").last
    expect(history).to_contain_text("Umbral de ausentismo crónico: 10 % → 8 %")
    expect(history).to_contain_text("Valores predeterminados de la especificación")
    no_english("with its history")
    assert_accessible(page)
