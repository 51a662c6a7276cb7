"""An export job in a district's data, for the isolation matrix and the audit walk."""

from django_scopes import scope

from districts.models import Membership, Role
from exports.models import ExportJob


def export_job_of(records) -> ExportJob:
    cached = getattr(records, "_export_job", None)
    if cached is None:
        with scope(district=records.district):
            lead = Membership.objects.get(district=records.district, grants__role=Role.ATTENDANCE_LEAD)
            cached = ExportJob.objects.create(
                district=records.district, requested_by=lead, renderer="outreach.huddle_pdf", title="Huddle PDF"
            )
        records._export_job = cached
    return cached
