"""Read endpoints of the nightly results under /d/<district>/api/: a student's current figures and
flags, the flag list, and the district aggregates. Visibility follows the pages: a lead's API sees
the students their roster shows; aggregates are for district-wide roles."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from districts.api import DistrictAPIMixin, SchoolRefSerializer, StudentsShownMixin
from districts.models import Role, School
from students.selectors import school_list_visible, student_get_visible
from students.services import student_view_record

from . import selectors
from .aggregates import DIMENSIONS
from .models import RULE_CHOICES, Flag, StudentMetrics

# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: other resources have a "status" too.
FLAG_STATUS_CHOICES = Flag.Status.choices


class FlagSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    why = serializers.CharField(read_only=True, help_text="Why it was raised, in the request's language.")

    class Meta:
        model = Flag
        fields = [
            "id", "rule", "label", "tier", "status", "first_met", "last_met", "currently_met", "why", "why_code",
            "why_params", "policy_version", "resolved_on", "resolution",
        ]  # fmt: skip
        read_only_fields = fields


class StudentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sis_id = serializers.CharField()
    name = serializers.CharField(source="full_name")


class FlagListItemSerializer(FlagSerializer):
    student = StudentRefSerializer(read_only=True)

    class Meta(FlagSerializer.Meta):
        fields = ["student", *FlagSerializer.Meta.fields]
        read_only_fields = fields


class MetricsSerializer(serializers.ModelSerializer):
    current_school = SchoolRefSerializer(allow_null=True, read_only=True)
    absences_left_before_chronic = serializers.IntegerField(source="absences_left")
    rules = serializers.ListField(child=serializers.CharField())
    signals = serializers.DictField()

    class Meta:
        model = StudentMetrics
        fields = [
            "current_school", "membership_days", "absent_days", "absent_excused", "absent_unexcused", "absent_suspension",
            "absent_partial", "tardy_days", "absence_rate", "chronic", "band", "remaining_days",
            "absences_left_before_chronic", "recent_rate", "projected_rate", "tier", "rules", "signals",
        ]  # fmt: skip
        read_only_fields = fields


class StudentMetricsResponseSerializer(serializers.Serializer):
    student = StudentRefSerializer()
    as_of = serializers.DateField(allow_null=True, help_text="The current run's date; null before the first run.")
    policy_version = serializers.IntegerField(allow_null=True)
    metrics = MetricsSerializer(allow_null=True, help_text="Null when the current run does not include the student.")
    flags = FlagSerializer(many=True)


class StudentMetricsAPI(DistrictAPIMixin, generics.GenericAPIView):
    """One student's figures in the current run, with every flag (open or not). Audit-logged
    like the student record (SPEC §9)."""

    serializer_class = StudentMetricsResponseSerializer

    def get(self, request, district, student_id):
        student = student_get_visible(access=request.access, student_id=student_id)
        student_view_record(request=request, student=student, detail={"view": "metrics"})
        metrics = selectors.student_metrics_get(student=student)
        run = metrics.run if metrics else selectors.current_run()
        body = {
            "student": student,
            "as_of": run.as_of if run else None,
            "policy_version": run.policy.version if run else None,
            "metrics": metrics,
            "flags": selectors.student_flag_list(student=student),
        }
        return Response(self.get_serializer(body).data)


class FlagFilterSerializer(serializers.Serializer):
    """An unknown or foreign school is the same 400 as a malformed one."""

    status = serializers.ChoiceField(choices=Flag.Status.choices, required=False)
    rule = serializers.ChoiceField(choices=RULE_CHOICES, required=False)
    tier = serializers.ChoiceField(choices=[(2, "Tier 2"), (3, "Tier 3")], required=False)
    school = serializers.PrimaryKeyRelatedField(
        queryset=School.objects.none(), required=False, help_text="The student's current school in the current run."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        access = self.context.get("access")
        if access is not None:
            self.fields["school"].queryset = school_list_visible(access=access)


@extend_schema(parameters=[FlagFilterSerializer])
class FlagListAPI(StudentsShownMixin, DistrictAPIMixin, generics.ListAPIView):
    """Flags of the students the caller may see, highest tier first; each page is audit-logged
    with the students its flags name."""

    audit_what = "flag_list_api"
    serializer_class = FlagListItemSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Flag.objects.none()
        filters = FlagFilterSerializer(data=self.request.query_params, context={"access": self.request.access})
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        return selectors.flag_list(
            access=self.request.access, status=chosen.get("status", ""), rule=chosen.get("rule", ""),
            tier=int(chosen["tier"]) if "tier" in chosen else None, school=chosen.get("school"),
        )  # fmt: skip


class AggregateFiguresSerializer(serializers.Serializer):
    students = serializers.IntegerField(help_text="Students with membership this year up to the as-of date.")
    students_eligible = serializers.IntegerField(
        help_text="Of those, enrolled at least the minimum days: the rate's base."
    )
    chronic = serializers.IntegerField()
    chronic_rate = serializers.FloatField(allow_null=True)
    bands = serializers.DictField(child=serializers.IntegerField())
    average_days_missed = serializers.FloatField(allow_null=True)


class PriorYearFiguresSerializer(AggregateFiguresSerializer):
    shares = serializers.DictField(
        child=serializers.FloatField(), allow_null=True,
        help_text="As the group's shares, when the prior year to date was computed from daily attendance; else null.",
    )  # fmt: skip


class AggregateGroupSerializer(AggregateFiguresSerializer):
    dimension = serializers.ChoiceField(choices=DIMENSIONS)
    key = serializers.CharField()
    label = serializers.CharField()
    shares = serializers.DictField(
        child=serializers.FloatField(), allow_null=True,
        help_text="Shares of absent days: excused, unexcused, suspension, partial days. Null for school rows "
        "(school-level figures are stored without a category split) and weeks.",
    )  # fmt: skip
    prior_year = PriorYearFiguresSerializer(allow_null=True)


class AggregateReportSerializer(serializers.Serializer):
    run_id = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)
    prior_year = serializers.CharField(allow_null=True)
    prior_year_basis = serializers.CharField(allow_null=True)
    groups = AggregateGroupSerializer(many=True)


class AggregateFilterSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=DIMENSIONS, required=False)


@extend_schema(parameters=[AggregateFilterSerializer])
class AggregatesAPI(DistrictAPIMixin, generics.GenericAPIView):
    """Chronic absence per district, school, grade, grade band, subgroup, race/ethnicity and week
    in the current run, with the prior year beside each group (see prior_year_basis). Counts,
    no student rows: for district-wide roles."""

    serializer_class = AggregateReportSerializer
    required_roles = (Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF)

    def get(self, request, district):
        filters = AggregateFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        report = selectors.aggregate_report(
            district=request.district, dimension=filters.validated_data.get("dimension", "")
        )
        empty = {
            "run_id": None,
            "as_of": None,
            "policy_version": None,
            "prior_year": None,
            "prior_year_basis": None,
            "groups": [],
        }
        return Response(self.get_serializer(report or empty).data)
