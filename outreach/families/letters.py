"""Personalised nudge letters: one page per student, in the guardian's language, showing the
days the student has missed this year in plain words and as a small bar graphic beside a
typical classmate's, what 10% of the year means, and whom to call.

A batch is one printing: the same school, selection and date is refused a second time unless
asked for again (`again=True`), because a family that gets the same letter twice stops reading
them. Each letter is logged as an outreach action (method letter) on the student's timeline.
Letters carry no notes, no barrier, no diagnosis and no other student's data: only the
student's own figures and the classmates' median.

Every figure is read for the whole district in one pass (figures_as_of); the letters are laid out
in chunks, each ONE WeasyPrint document written once and cut into each student's pages with
pypdf, the chunks side by side in worker processes (letter_pdf); all.pdf joins the chunks.
"""

import dataclasses
import datetime
import itertools
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
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
from exports.registry import ExportFile, ExportPart, ExportRequest
from languages.family import ENGLISH, family_language
from students.models import Enrollment, Guardian, Student
from tiers.models import Flag

from ..models import HuddleRow, Method, OutreachAction
from .figures import DistrictFigures, Figures, figures_as_of
from .letter_pdf import join_pdfs, letters_pdf
from .messages import TemplateBook
from .models import Letter, LetterBatch, MessageKind

CHUNK = 100  # letters laid out per WeasyPrint document: progress moves, memory stays flat, both cores work
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
        pages = []  # filled as the letters are written, while the first chunks are laid out
        written = _pages(district, batch.school, students, figures, batch.as_of)
        all_pdf, singles = _render(written, len(students), pages, batch, progress)
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


def letter_batch_relayout(
    *, batch: LetterBatch, out_dir: Path, progress: Callable[[int, str], None] | None = None
) -> dict[str, bytes]:
    """Lay out a printed batch's letters again into `out_dir`, for the students it was logged for,
    with the figures as of its date: its files were removed (retention) and someone asked for
    them again. Nothing is logged a second time: the families got these letters once."""
    progress = progress or (lambda percent, step: None)
    progress(5, _("Counting each student's days"))
    district = batch.district
    figures = figures_as_of(
        district=district, as_of=batch.as_of, grades=dict(Student.objects.values_list("pk", "grade"))
    )
    logged = batch.letters.select_related("student").order_by("student__sis_id")
    students = [letter.student for letter in logged if letter.student_id in figures.students]
    pages: list[LetterPage] = []
    all_pdf, singles = _render(
        _pages(district, batch.school, students, figures, batch.as_of), len(students), pages, batch, progress
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for sis_id, content in singles.items():
        (out_dir / f"{sis_id}.pdf").write_bytes(content)
    (out_dir / "all.pdf").write_bytes(all_pdf)
    return singles


def letter_batch_folder(batch: LetterBatch) -> Path:
    """Where a batch printed from the browser was laid out before each job had a working folder
    of its own (render_nudge_letters): letter_files_expire removes what is left there."""
    return Path(settings.MEDIA_ROOT) / district_storage_path(batch.district_id, "letters", f"batch-{batch.pk}")


def letter_files_expire(*, now: datetime.datetime | None = None, hours: int | None = None) -> int:
    """Remove the folders of batches finished more than EXPORT_RETENTION_HOURS ago that are still
    on disk (a worker stopped between laying them out and handing them over, or the batch was
    printed before folders were emptied): letters name children and their absences, and nothing
    reads these folders once a batch is done. Returns how many folders were removed."""
    kept = settings.EXPORT_RETENTION_HOURS if hours is None else hours
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=kept)
    removed = 0
    finished = LetterBatch.objects.exclude(status=LetterBatch.Status.RUNNING).filter(finished_at__lt=cutoff)
    for batch in finished.only("pk", "district_id"):
        folder = letter_batch_folder(batch)
        if folder.exists():
            shutil.rmtree(folder)
            removed += 1
    return removed


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


def _pages(district, school, students, figures: DistrictFigures, as_of) -> Iterator[LetterPage]:
    book = TemplateBook(district)
    guardians: dict[int, Guardian] = {}
    for guardian in Guardian.objects.filter(student__in=students).order_by("student_id", "pk"):
        guardians.setdefault(guardian.student_id, guardian)
    schools = {s.pk: s for s in School.objects.all()}
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
                "graphic": _graphic(figure),
                "as_of": as_of,
                "contact": book.contact(at.pk if at else None),
            }
            html = render_to_string("outreach/families/letter.html", context)
        yield LetterPage(student=student, figures=figure, language=message.language, html=html)


def _graphic(figure: Figures) -> dict:
    """The letter's small picture: a bar each for the student's days, a typical classmate's and
    the 10% mark on one scale (percent of the track), and the days missed month by month. Plain
    blocks: WeasyPrint lays them out many times faster than flex boxes or an SVG."""
    top = max(figure.absent_days, figure.typical_absent or 0, figure.chronic_days, 1)
    shown = [("student", figure.absent_days)]
    if figure.typical_absent is not None:
        shown.append(("typical", figure.typical_absent))
    if figure.chronic_days:
        shown.append(("chronic", figure.chronic_days))
    bars = [{"kind": kind, "value": value, "percent": round(100 * value / top, 1)} for kind, value in shown]
    return {"bars": bars, "months": list(figure.by_month)}


def _render(
    written: Iterator[LetterPage], total: int, pages: list[LetterPage], batch: LetterBatch, progress
) -> tuple[bytes, dict[str, bytes]]:
    """Chunks of letters laid out side by side (letter_pdf), each written once and cut per
    student; `pages` collects every letter written."""
    css = render_to_string("outreach/families/letter.css")

    def chunks():
        while chunk := list(itertools.islice(written, CHUNK)):
            pages.extend(chunk)
            yield [(str(page.student.pk), page.html) for page in chunk]

    processes = min(settings.LETTERS_PROCESSES, math.ceil(total / CHUNK))
    parts, singles, done = [], {}, 0
    for part, own in letters_pdf(css, chunks(), processes=processes):
        parts.append(part)
        singles.update(own)
        done += len(own)
        LetterBatch.objects.filter(pk=batch.pk).update(done=done)
        progress(10 + int(85 * done / max(total, 1)), _("Letters laid out: %(done)s of %(total)s") % {
            "done": done, "total": total
        })  # fmt: skip
    by_key = {str(page.student.pk): page.student.sis_id for page in pages}
    return (join_pdfs(parts) if parts else b""), {by_key[key]: content for key, content in singles.items()}


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
    a reserved batch, or lays a printed one out again when a retried job asks for its files.

    Each job lays its letters out in a working folder of its own, gone when the job has its copies
    (the export job keeps them, removed after EXPORT_RETENTION_HOURS): two jobs of one batch, or
    the retention sweep, never delete files another job is still reading."""
    batch = LetterBatch.objects.select_related("district", "school", "created_by").get(pk=export.params["batch_id"])
    if not letter_schools(export.access).filter(pk=batch.school_id).exists():
        raise PermissionDenied(_("Letters are printed by the school's attendance lead or a district admin."))
    with tempfile.TemporaryDirectory(prefix=f"attendnc-letters-{batch.pk}-") as working:
        folder = Path(working)
        if batch.status != LetterBatch.Status.DONE:
            singles = letter_batch_render(batch=batch, out_dir=folder, progress=export.progress)
        else:
            singles = letter_batch_relayout(batch=batch, out_dir=folder, progress=export.progress)
        all_pdf = (folder / "all.pdf").read_bytes()
    school = batch.school.sis_id if batch.school else "district"
    # The letters laid out now: a relayout leaves out a logged student the figures no longer count.
    letters = [
        letter
        for letter in batch.letters.select_related("student").order_by("student__sis_id")
        if letter.student.sis_id in singles
    ]
    parts = [
        ExportPart(
            filename=f"{letter.student.sis_id}.pdf", content=singles[letter.student.sis_id],
            label=f"{letter.student.full_name} ({letter.student.sis_id})", students=[letter.student_id],
        )
        for letter in letters
    ]  # fmt: skip
    return ExportFile(
        content=all_pdf,
        filename=f"letters-{school}-{batch.as_of:%Y-%m-%d}.pdf".replace(" ", "-"),
        content_type="application/pdf",
        students=[letter.student_id for letter in letters],
        parts=parts,
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
