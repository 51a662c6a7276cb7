"""Personalised nudge letters: one page per student, in the guardian's language, showing the
days the student has missed this year in plain words and as a small bar graphic beside a
typical classmate's, what 10% of the year means, and whom to call.

A batch is one printing: the same school, selection and date is refused a second time unless
asked for again (`again=True`), because a family that gets the same letter twice stops reading
them. Each letter is logged as an outreach action (method letter) on the student's timeline.
Letters carry no notes, no barrier, no diagnosis and no other student's data: only the
student's own figures and the classmates' median.

The whole batch is laid out as one WeasyPrint document (one CSS parse, one font set), then each
student's pages are written on their own and all of them together as all.pdf.
"""

import dataclasses
import datetime
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from districts.models import District, Membership, Role, School
from districts.tenancy import district_storage_path
from exports.registry import ExportFile, ExportRequest
from languages.family import ENGLISH, family_language
from students.models import Enrollment, Guardian, Student
from tiers.models import Flag

from ..models import HuddleRow, Method, OutreachAction
from .figures import DistrictFigures, Figures, figures_as_of
from .messages import TemplateBook
from .models import Letter, LetterBatch, MessageKind

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

CHUNK = 250  # letters laid out per WeasyPrint document: progress moves, memory stays flat
INTERFACE_LANGUAGES = {"en", "es"}  # the letter's fixed words exist in these; others read English


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which students get a letter: "absences:N" (N+ absent days this year), "band:severe",
    "flag:t2_chronic" (an open flag of that rule), "section:new" (this week's huddle section)."""

    kind: str
    value: str

    @classmethod
    def parse(cls, text: str) -> "Selection":
        kind, _sep, value = (text or "").partition(":")
        if kind not in ("absences", "band", "flag", "section") or not value:
            raise ValidationError({"selection": _("Choose which students get a letter.")})
        if kind == "absences" and not value.isdigit():
            raise ValidationError({"selection": _("The number of absences must be a whole number.")})
        return cls(kind, value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclasses.dataclass
class LetterPage:
    student: Student
    figures: Figures
    language: str
    html: str


def letter_batch_reserve(
    *, district: District, school: School | None, selection: str, as_of: datetime.date, by: Membership, again: bool
) -> LetterBatch:
    """Record the batch before any work, refusing a batch already printed unless `again`."""
    chosen = Selection.parse(selection)
    if school is not None and school.district_id != district.pk:
        raise ValidationError(_("That school is not in this district."))
    with transaction.atomic():
        repeat = _repeat_number(school, chosen, as_of, again)
        return LetterBatch.objects.create(
            district=district, school=school, selection=str(chosen), as_of=as_of, repeat=repeat, created_by=by
        )


def letter_batch_render(
    *, batch: LetterBatch, out_dir: Path, progress: Callable[[int, str], None] | None = None
) -> dict[str, bytes]:
    """Render and log a reserved batch into `out_dir` (<SIS id>.pdf each, and all.pdf); returns
    each student's PDF by SIS id."""
    progress = progress or (lambda percent, step: None)
    try:
        progress(5, _("Counting each student's days"))
        district = batch.district
        figures = figures_as_of(
            district=district, as_of=batch.as_of, grades=dict(Student.objects.values_list("pk", "grade"))
        )
        students = _students(district, batch.school, Selection.parse(batch.selection), batch.as_of, figures)
        LetterBatch.objects.filter(pk=batch.pk).update(total=len(students))
        pages = _pages(district, batch.school, students, figures, batch.as_of)
        all_pdf, singles = _render(pages, batch, progress)
        out_dir.mkdir(parents=True, exist_ok=True)
        for sis_id, content in singles.items():
            (out_dir / f"{sis_id}.pdf").write_bytes(content)
        (out_dir / "all.pdf").write_bytes(all_pdf)
        _log(batch, pages, batch.created_by, batch.as_of)
    except Exception as error:
        LetterBatch.objects.filter(pk=batch.pk).update(
            status=LetterBatch.Status.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        raise
    LetterBatch.objects.filter(pk=batch.pk).update(
        status=LetterBatch.Status.DONE, done=len(pages), finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return singles


def letter_batch_print(
    *,
    district: District,
    school: School | None,
    selection: str,
    as_of: datetime.date,
    by: Membership,
    out_dir: Path,
    again: bool = False,
) -> tuple[LetterBatch, dict[str, bytes]]:
    """Reserve and render in one go (the command line)."""
    batch = letter_batch_reserve(district=district, school=school, selection=selection, as_of=as_of, by=by, again=again)
    singles = letter_batch_render(batch=batch, out_dir=out_dir)
    batch.refresh_from_db()
    return batch, singles


def letter_batch_folder(batch: LetterBatch) -> Path:
    """Where a batch printed from the browser keeps its files: the district's own folder."""
    return Path(settings.MEDIA_ROOT) / district_storage_path(batch.district_id, "letters", f"batch-{batch.pk}")


class LettersAlreadyPrinted(ValidationError):
    pass


def _repeat_number(school: School | None, chosen: Selection, as_of: datetime.date, again: bool) -> int:
    same = LetterBatch.objects.filter(school=school, selection=str(chosen), as_of=as_of)
    last = same.aggregate(last=Max("repeat"))["last"]
    if last is None:
        return 0
    if not again:
        printed = same.order_by("-created_at").first()
        raise LettersAlreadyPrinted(
            _(
                "These letters were already printed on %(date)s. Families who get the same letter twice stop "
                "reading them; ask for them again only if the first ones were lost."
            )
            % {"date": formats.date_format(timezone.localtime(printed.created_at).date(), "DATE_FORMAT")}
        )
    return last + 1


def _students(
    district: District, school: School | None, chosen: Selection, as_of: datetime.date, figures: DistrictFigures
) -> list[Student]:
    enrolled = Enrollment.objects.filter(entry_date__lte=as_of).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=as_of)
    )
    if school is not None:
        enrolled = enrolled.filter(school=school)
    ids = set(enrolled.values_list("student_id", flat=True))
    if chosen.kind == "absences":
        wanted = int(chosen.value)
        ids = {pk for pk in ids if pk in figures.students and figures.students[pk].absent_days >= wanted}
    elif chosen.kind == "band":
        ids = {pk for pk in ids if pk in figures.students and figures.students[pk].band == chosen.value}
    elif chosen.kind == "flag":
        ids &= set(
            Flag.objects.filter(rule=chosen.value, status__in=Flag.OPEN_STATUSES).values_list("student_id", flat=True)
        )
    else:
        rows = HuddleRow.objects.filter(section=chosen.value, huddle__week_start__lte=as_of)
        if school is not None:
            rows = rows.filter(huddle__school=school)
        latest = rows.aggregate(week=Max("huddle__week_start"))["week"]
        ids &= set(rows.filter(huddle__week_start=latest).values_list("student_id", flat=True))
    ids = {pk for pk in ids if figures.students.get(pk) and figures.students[pk].membership_days > 0}
    return list(Student.objects.filter(pk__in=ids).order_by("sis_id"))


def _pages(district, school, students, figures: DistrictFigures, as_of) -> list[LetterPage]:
    book = TemplateBook(district)
    guardians: dict[int, Guardian] = {}
    for guardian in Guardian.objects.filter(student__in=students).order_by("student_id", "pk"):
        guardians.setdefault(guardian.student_id, guardian)
    schools = {s.pk: s for s in School.objects.all()}
    pages = []
    for student in students:
        figure = figures.students[student.pk]
        guardian = guardians.get(student.pk)
        language = family_language(guardian.language if guardian else student.home_language)
        at = school or schools.get(figure.current_school_id)
        message = book.compose(
            kind=MessageKind.NUDGE_LETTER, student=student, school=at, family_language=language, figures=figure
        )
        reading = message.language if message.language in INTERFACE_LANGUAGES else ENGLISH
        with translation.override(reading):
            context = {
                "student": student,
                "guardian": guardian,
                "school": at,
                "message": message,
                "paragraphs": [p.strip() for p in message.body.split("\n\n") if p.strip()],
                "figures": figure,
                "threshold_pct": formats.number_format(round(figures.threshold * 100)),
                "bars": _bars(figure),
                "as_of": as_of,
                "contact": book.contact(at.pk if at else None),
            }
            html = render_to_string("outreach/families/letter.html", context)
        pages.append(LetterPage(student=student, figures=figure, language=message.language, html=html))
    return pages


def _bars(figure: Figures) -> dict:
    """Widths (percent of the graphic) of the student's days, a typical classmate's and the 10% mark."""
    top = max(figure.absent_days, figure.typical_absent or 0, figure.chronic_days, 1)
    months_top = max([missed for _month, missed in figure.by_month] + [1])
    return {
        "student": round(100 * figure.absent_days / top, 1),
        "typical": round(100 * (figure.typical_absent or 0) / top, 1),
        "chronic": round(100 * figure.chronic_days / top, 1),
        "months": [(month, missed, round(100 * missed / months_top, 1)) for month, missed in figure.by_month],
    }


def _render(pages: list[LetterPage], batch: LetterBatch, progress) -> tuple[bytes, dict[str, bytes]]:
    from weasyprint import HTML  # loading Pango costs ~0.3 s: only letters and exports need it

    css = render_to_string("outreach/families/letter.css")
    all_pages, singles = [], {}
    document = None
    for start in range(0, len(pages), CHUNK):
        chunk = pages[start : start + CHUNK]
        html = f'<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head><body>'
        html += "".join(page.html for page in chunk) + "</body></html>"
        document = HTML(string=html).render()
        by_student = _pages_by_anchor(document)
        for page in chunk:
            own = by_student.get(f"letter-{page.student.pk}", [])
            singles[page.student.sis_id] = document.copy(own).write_pdf()
            all_pages.extend(own)
        done = start + len(chunk)
        LetterBatch.objects.filter(pk=batch.pk).update(done=done)
        progress(10 + int(85 * done / max(len(pages), 1)), _("Letters laid out: %(done)s of %(total)s") % {
            "done": done, "total": len(pages)
        })  # fmt: skip
    if document is None:
        return b"", singles
    return document.copy(all_pages).write_pdf(), singles


def _pages_by_anchor(document) -> dict[str, list]:
    """Each letter starts with an anchor named after its student; its pages run to the next one."""
    owners, current = {}, None
    for page in document.pages:
        starts = [name for name in page.anchors if name.startswith("letter-")]
        if starts:
            current = starts[0]
        if current is not None:
            owners.setdefault(current, []).append(page)
    return owners


@transaction.atomic
def _log(batch: LetterBatch, pages: list[LetterPage], by: Membership, as_of: datetime.date) -> None:
    """One outreach action (method letter) per letter; its line on the timeline is written from
    the Letter row in the reader's language (families.timeline), so the action carries no prose."""
    actions = [
        OutreachAction(
            district=batch.district, student=page.student, attempt_date=as_of, method=Method.LETTER,
            reached=False, notes="", sensitive=False, author=by,
        )
        for page in pages
    ]  # fmt: skip
    OutreachAction.objects.bulk_create(actions, batch_size=1000)
    Letter.objects.bulk_create(
        [
            Letter(
                district=batch.district, batch=batch, student=page.student, language=page.language,
                absent_days=page.figures.absent_days, membership_days=page.figures.membership_days, action=action,
            )
            for page, action in zip(pages, actions)
        ],
        batch_size=1000,
    )  # fmt: skip


LETTERS_RENDERER = "outreach.nudge_letters"


def letter_schools(access):
    """The schools a person may print letters for: every school for a district admin, their own
    for an attendance lead."""
    schools = School.objects.all()
    if not access.has_role(Role.DISTRICT_ADMIN):
        schools = schools.filter(pk__in=access.school_ids(Role.ATTENDANCE_LEAD))
    return schools


def render_nudge_letters(export: ExportRequest) -> ExportFile:
    """The export renderer "outreach.nudge_letters" (registered in OutreachConfig.ready): lays out
    a reserved batch, or hands back its all.pdf when a retried job finds it already done."""
    batch = LetterBatch.objects.select_related("district", "school", "created_by").get(pk=export.params["batch_id"])
    if not letter_schools(export.access).filter(pk=batch.school_id).exists():
        raise PermissionDenied(_("Letters are printed by the school's attendance lead or a district admin."))
    folder = letter_batch_folder(batch)
    if batch.status != LetterBatch.Status.DONE:
        letter_batch_render(batch=batch, out_dir=folder, progress=export.progress)
    school = batch.school.sis_id if batch.school else "district"
    return ExportFile(
        content=(folder / "all.pdf").read_bytes(),
        filename=f"letters-{school}-{batch.as_of:%Y-%m-%d}.pdf".replace(" ", "-"),
        content_type="application/pdf",
        students=list(batch.letters.values_list("student_id", flat=True)),
    )


def letter_signer(district: District, school: School | None) -> Membership:
    """Whom a batch printed from the command line is logged as: the school's attendance lead,
    else a district admin."""
    grants = Membership.objects.filter(district=district, is_active=True)
    for role, at in ((Role.ATTENDANCE_LEAD, school), (Role.DISTRICT_ADMIN, None)):
        found = grants.filter(grants__role=role, **({"grants__school": at} if at else {})).order_by("pk").first()
        if found is not None:
            return found
    raise ValidationError(_("The district has no attendance lead or admin to log the letters under."))
