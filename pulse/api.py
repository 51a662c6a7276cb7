"""The pulse figures on the API: /d/<district>/api/pulse/?by=school&min_cell=10, the same rows
`manage.py export_pulse` writes. Counts, no student rows: for district-wide roles."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from districts.api import DistrictAPIMixin
from districts.models import AuditEvent, Role
from districts.services import audit_record

from .figures import LEVELS
from .selectors import pulse_table


class PulseFilterSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=LEVELS, default="district")
    min_cell = serializers.IntegerField(
        min_value=0, default=0, help_text="Suppress groups under this many students (0: none)."
    )
    as_of = serializers.DateField(
        required=False, help_text="Default: the current run's date. Another date is computed, nothing stored."
    )


class PulseRowSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVELS)
    group = serializers.CharField(
        allow_blank=True,
        help_text="Empty for the district; the school's SIS id; the grade; field=value for subgroups (Y/N for flags).",
    )
    students = serializers.IntegerField(
        allow_null=True, help_text="Students with at least the minimum membership days; null when suppressed."
    )
    chronic = serializers.IntegerField(allow_null=True)
    chronic_rate = serializers.FloatField(allow_null=True, help_text="chronic / students, 4 decimals.")
    at_risk = serializers.IntegerField(allow_null=True)
    moderate = serializers.IntegerField(allow_null=True)
    severe = serializers.IntegerField(allow_null=True)
    acute = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField()


class PulseTableSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)
    by = serializers.ChoiceField(choices=LEVELS)
    min_cell = serializers.IntegerField()
    rows = PulseRowSerializer(many=True)


@extend_schema(parameters=[PulseFilterSerializer])
class PulseAPI(DistrictAPIMixin, generics.GenericAPIView):
    """Chronic absence per district, school, grade or subgroup, with small-cell suppression
    (SPEC §9) when min_cell is given. Audit-logged as an export."""

    serializer_class = PulseTableSerializer
    required_roles = (Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)

    def get(self, request, district):
        filters = PulseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        table = pulse_table(
            district=request.district, by=chosen["by"], min_cell=chosen["min_cell"], as_of=chosen.get("as_of")
        )
        audit_record(
            district=request.district, user=request.user, action=AuditEvent.Action.EXPORT, object_type="pulse_figures",
            object_label=f"Pulse figures by {chosen['by']}", request=request,
            detail={"by": chosen["by"], "min_cell": chosen["min_cell"], "via": "api"},
        )  # fmt: skip
        body = {
            "as_of": table.as_of if table else None,
            "policy_version": table.policy_version if table else None,
            "by": chosen["by"],
            "min_cell": chosen["min_cell"],
            "rows": [row.as_dict() for row in table.rows] if table else [],
        }
        return Response(self.get_serializer(body).data)
