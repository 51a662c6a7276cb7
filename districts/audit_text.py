"""An audit entry's record type and label in the reader's language.

An AuditEvent is written once, by whoever acted, and read later by a district admin in English
or Spanish: so what it stores stays as it was written (a code for the record type, the English
label), and the audit log page, its filter and its CSV render both here, when shown.

- `record_type_text`: the code a view or service logs (`roster`, `huddle_row`,
  `export:outreach.huddle_pdf`, `admin:students.student`) as words. A code not listed here
  shows as written (tests/test_audit_text.py fails for a code logged in the sources and not listed).
- `label_text`: the labels written in English by the code that logs them ("Tier 3 queue",
  "Undo of import #12 (run #13)"), read back in the reader's language. Whatever the label
  quotes (a student's or school's name, an email, a note) stays as written; a label this
  module does not recognise (a student's name, a case title) is shown as written.

The districts app sits under every other app, so it knows their codes as plain strings and
imports none of them.
"""

import datetime
import re
from collections.abc import Callable

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

RECORD_TYPES = {
    "student": pgettext_lazy("audit record type", "Student record"),
    "roster": pgettext_lazy("audit record type", "Roster"),
    "huddle": pgettext_lazy("audit record type", "Huddle"),
    "huddle_row": pgettext_lazy("audit record type", "Huddle row"),
    "student_timeline": pgettext_lazy("audit record type", "Student timeline"),
    "flag": pgettext_lazy("audit record type", "Flag"),
    "outreach_action": pgettext_lazy("audit record type", "Family contact"),
    "outreach_actions": pgettext_lazy("audit record type", "Family contacts"),
    "notice_opt_out": pgettext_lazy("audit record type", "Same-day notices stopped or resumed"),
    "family messages": pgettext_lazy("audit record type", "Family messages"),
    "message preview": pgettext_lazy("audit record type", "Message preview"),
    "nudge letters": pgettext_lazy("audit record type", "Nudge letters"),
    "case": pgettext_lazy("audit record type", "Case"),
    "cases": pgettext_lazy("audit record type", "Case list"),
    "caseload": pgettext_lazy("audit record type", "Caseload"),
    "case_queue": pgettext_lazy("audit record type", "Tier 3 queue"),
    "case_interventions": pgettext_lazy("audit record type", "Case interventions"),
    "case_referrals": pgettext_lazy("audit record type", "Case referrals"),
    "case_meetings": pgettext_lazy("audit record type", "Case meetings"),
    "case_reviews": pgettext_lazy("audit record type", "Case reviews"),
    "case_referral": pgettext_lazy("audit record type", "Referral"),
    "guard_override": pgettext_lazy("audit record type", "Support-first guard overridden"),
    "partner_disclosure": pgettext_lazy("audit record type", "Records shared with a partner"),
    "district_settings": pgettext_lazy("audit record type", "District settings"),
    "audit_log": pgettext_lazy("audit record type", "Audit log"),
    "audit_log_csv": pgettext_lazy("audit record type", "Audit log (CSV)"),
    "import_run": pgettext_lazy("audit record type", "Import"),
    "import_health": pgettext_lazy("audit record type", "Import health"),
    "school": pgettext_lazy("audit record type", "School"),
    "school_alias": pgettext_lazy("audit record type", "School id in import files"),
    "held_rows": pgettext_lazy("audit record type", "Held rows"),
    "pulse_figures": pgettext_lazy("audit record type", "Pulse figures"),
    "pulse_school": pgettext_lazy("audit record type", "Pulse: one school"),
    "pulse_checks": pgettext_lazy("audit record type", "Pulse checks"),
    "pulse_follow_through": pgettext_lazy("audit record type", "Pulse: follow-through"),
    "pulse_equity": pgettext_lazy("audit record type", "Pulse: equity"),
    "pulse_data_quality": pgettext_lazy("audit record type", "Pulse: data quality"),
    "pulse_effectiveness": pgettext_lazy("audit record type", "Pulse: intervention effectiveness"),
    "support_request": pgettext_lazy("audit record type", "Support request"),
    "support_requests": pgettext_lazy("audit record type", "Support requests"),
    "mentor_assignment": pgettext_lazy("audit record type", "Mentor assignment"),
    "mentor_assignments": pgettext_lazy("audit record type", "Mentor assignments"),
    "mentor_assignment_api": pgettext_lazy("audit record type", "Mentor assignments (API)"),
    "student_list_api": pgettext_lazy("audit record type", "Student list (API)"),
    "flag_list_api": pgettext_lazy("audit record type", "Flag list (API)"),
    "calculation_policy": pgettext_lazy("audit record type", "Calculation policy"),
    "export_metrics": pgettext_lazy("audit record type", "Metrics export (command line)"),
    "admin": pgettext_lazy("audit record type", "Django admin"),
}

EXPORTS = {
    "outreach.huddle_pdf": pgettext_lazy("audit record type", "Huddle PDF"),
    "outreach.nudge_letters": pgettext_lazy("audit record type", "Nudge letters"),
    "cases.plan_pdf": pgettext_lazy("audit record type", "Case plan PDF"),
    "pulse.board_pdf": pgettext_lazy("audit record type", "Board report PDF"),
}


def record_type_text(code: str) -> str:
    """The record type `code` in the active language (one not known here: as written)."""
    if code in RECORD_TYPES:
        return str(RECORD_TYPES[code])
    kind, _sep, rest = code.partition(":")
    if kind == "export" and rest:
        renderer, _sep, piece = rest.partition(":")
        what = str(EXPORTS.get(renderer, renderer))
        if piece == "part":
            return pgettext("audit record type", "%(export)s: one part") % {"export": what}
        if piece == "parts":
            return pgettext("audit record type", "%(export)s: list of parts") % {"export": what}
        return pgettext("audit record type", "Export: %(export)s") % {"export": what}
    if kind == "admin" and rest:
        return pgettext("audit record type", "Django admin: %(model)s") % {"model": rest}
    return code


# --- labels -------------------------------------------------------------------------------

FIXED_LABELS = {
    "Tier 3 queue": pgettext_lazy("audit record", "Tier 3 queue"),
    "case list": pgettext_lazy("audit record", "Case list"),
    "Held rows CSV": pgettext_lazy("audit record", "Held rows CSV"),
    "Pulse checks": pgettext_lazy("audit record", "Pulse checks"),
    "Support requests": pgettext_lazy("audit record", "Support requests"),
    "Follow-through by school": pgettext_lazy("audit record", "Follow-through by school"),
    "Equity by subgroup": pgettext_lazy("audit record", "Equity by subgroup"),
    "Data quality by school": pgettext_lazy("audit record", "Data quality by school"),
    "Intervention effectiveness (descriptive)": pgettext_lazy(
        "audit record", "Intervention effectiveness (descriptive)"
    ),
    "Django admin": pgettext_lazy("audit record", "Django admin"),
}

_CASELOAD_VIEWS = {
    "mine": pgettext_lazy("audit record", "My caseload"),
    "school": pgettext_lazy("audit record", "All open cases at my schools"),
    "all": pgettext_lazy("audit record", "All open cases"),
    "closed": pgettext_lazy("audit record", "Closed cases"),
}

_CHANNELS = {
    "email": pgettext_lazy("audit record", "email"),
    "text": pgettext_lazy("audit record", "text message"),
    "phone": pgettext_lazy("audit record", "phone call"),
    "letter": pgettext_lazy("audit record", "letter"),
}

_GROUPS = {
    "district": pgettext_lazy("audit record", "district"),
    "school": pgettext_lazy("audit record", "school"),
    "grade": pgettext_lazy("audit record", "grade"),
    "subgroup": pgettext_lazy("audit record", "subgroup"),
}


def _day(iso: str) -> str:
    try:
        return formats.date_format(datetime.date.fromisoformat(iso), "DATE_FORMAT")
    except ValueError:
        return iso


def _held_discarded(found: dict) -> str:
    count = int(found["count"])
    return ngettext("%(count)s held row discarded: %(note)s", "%(count)s held rows discarded: %(note)s", count) % {
        "count": count,
        "note": found["note"],
    }


def _notices(found: dict) -> str:
    channel = str(_CHANNELS.get(found["channel"], found["channel"]))
    params = {"channel": channel, "guardian": found["guardian"]}
    if found["change"] == "stopped":
        return _("Same-day notices by %(channel)s stopped for guardian %(guardian)s") % params
    return _("Same-day notices by %(channel)s resumed for guardian %(guardian)s") % params


def _mentors(found: dict) -> str:
    count = int(found["count"])
    return ngettext(
        "%(count)s student assigned to mentor %(mentor)s", "%(count)s students assigned to mentor %(mentor)s", count
    ) % {"count": count, "mentor": found["mentor"]}


# (record type, the English label's pattern, how to say it): the labels the sources write as
# f-strings, each pattern anchored on the sentence around the values it quotes.
_PATTERNS: list[tuple[str, re.Pattern, Callable[[dict], str]]] = [
    (
        "import_run",
        re.compile(r"Undo of import #(?P<run>\d+) \(run #(?P<undo>\d+)\)"),
        lambda f: _("Undo of import #%(run)s (run #%(undo)s)") % f,
    ),
    (
        "import_run",
        re.compile(r"Removals of import #(?P<run>\d+) confirmed"),
        lambda f: _("Removals of import #%(run)s confirmed") % f,
    ),
    (
        "school_alias",
        re.compile(r"School id (?P<sis_id>.*) in import files means (?P<school>.*)", re.DOTALL),
        lambda f: _("School id %(sis_id)s in import files means %(school)s") % f,
    ),
    (
        "school",
        re.compile(r"School (?P<name>.*) \((?P<sis_id>[^()]*)\) added from held rows", re.DOTALL),
        lambda f: _("School %(name)s (%(sis_id)s) added from held rows") % f,
    ),
    ("held_rows", re.compile(r"(?P<count>\d+) held rows discarded: (?P<note>.*)", re.DOTALL), _held_discarded),
    (
        "notice_opt_out",
        re.compile(r"Same-day notices by (?P<channel>\w+) (?P<change>stopped|resumed) for guardian (?P<guardian>\d+)"),
        _notices,
    ),
    (
        "guard_override",
        re.compile(r"Legal referral for (?P<name>.*) despite the support-first guard", re.DOTALL),
        lambda f: _("Legal referral for %(name)s despite the support-first guard") % f,
    ),
    (
        "partner_disclosure",
        re.compile(r"Records of (?P<name>.*) shared with (?P<partner>.*)", re.DOTALL),
        lambda f: _("Records of %(name)s shared with %(partner)s") % f,
    ),
    (
        "pulse_figures",
        re.compile(r"Pulse figures by (?P<by>\w+)"),
        lambda f: _("Pulse figures by %(group)s") % {"group": str(_GROUPS.get(f["by"], f["by"]))},
    ),
    (
        "mentor_assignment",
        re.compile(r"(?P<count>\d+) students assigned to mentor (?P<mentor>.*)", re.DOTALL),
        _mentors,
    ),
    (
        "mentor_assignment",
        re.compile(r"Student (?P<student>\d+) no longer assigned to mentor (?P<mentor>.*)", re.DOTALL),
        lambda f: _("Student %(student)s no longer assigned to mentor %(mentor)s") % f,
    ),
    (
        "nudge letters",
        re.compile(r"(?P<student>.*) as of (?P<day>\d{4}-\d\d-\d\d)", re.DOTALL),
        lambda f: _("%(student)s as of %(date)s") % {"student": f["student"], "date": _day(f["day"])},
    ),
    (
        "export_metrics",
        re.compile(r"export_metrics as of (?P<day>\d{4}-\d\d-\d\d)"),
        lambda f: _("Metrics as of %(date)s") % {"date": _day(f["day"])},
    ),
    (
        "calculation_policy",
        re.compile(r"Calculation policy v(?P<version>\d+)"),
        lambda f: _("Calculation policy, version %(version)s") % f,
    ),
    ("case", re.compile(r"Case opened for (?P<name>.*)", re.DOTALL), lambda f: _("Case opened for %(name)s") % f),
    ("case", re.compile(r"Case lead of (?P<name>.*)", re.DOTALL), lambda f: _("Case lead of %(name)s") % f),
    ("case", re.compile(r"Case of (?P<name>.*) closed", re.DOTALL), lambda f: _("Case of %(name)s closed") % f),
    ("case", re.compile(r"Case of (?P<name>.*)", re.DOTALL), lambda f: _("Case of %(name)s") % f),
    (
        "case_referral",
        re.compile(r"referral (?P<referral>\d+) on case (?P<case>\d+)"),
        lambda f: _("Referral %(referral)s on case %(case)s") % f,
    ),
    (
        "flag",
        re.compile(r"Tier 3 referral of (?P<name>.*)", re.DOTALL),
        lambda f: _("Tier 3 referral of %(name)s") % f,
    ),
    (
        "huddle_row",
        re.compile(r"Kept (?P<name>.*) in Tier 2 for now", re.DOTALL),
        lambda f: _("Kept %(name)s in Tier 2 for now") % f,
    ),
]


def label_text(object_type: str, label: str, detail: dict | None = None) -> str:
    """An entry's label in the active language; one not written by the sources' English
    sentences (a name, a title) as written."""
    if not label:
        return label
    if object_type == "caseload" and isinstance(detail, dict) and detail.get("view") in _CASELOAD_VIEWS:
        return str(_CASELOAD_VIEWS[detail["view"]])  # written in the logging person's language
    if label in FIXED_LABELS:
        return str(FIXED_LABELS[label])
    for kind, pattern, say in _PATTERNS:
        if object_type.split(":")[0] == kind or (kind == "case" and object_type.startswith("case_")):
            found = pattern.fullmatch(label)
            if found:
                return say(found.groupdict())
    return label
