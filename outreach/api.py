"""Huddle and action-log endpoints under /d/<district>/api/. The same selectors, permissions and
services as the pages: a mentor's API sees their students' rows only, district staff read
everything and change nothing, sensitive details are blanked for everyone but counselors of the
student's school and the author. Reads of student rows are audit-logged, as on the pages."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from districts.api import DistrictAPIMixin, SchoolRefSerializer, StudentsShownMixin
from districts.audit import students_shown
from districts.models import Membership
from students.selectors import student_get_visible
from tiers.api import StudentRefSerializer

from . import permissions, selectors, services
from .models import Barrier, Huddle, HuddleRow, Method, OutreachAction
from .sections import reason_label, reason_why


class HuddleQuerySerializer(serializers.Serializer):
    school = serializers.IntegerField(required=False, help_text="School id")
    week = serializers.DateField(required=False, help_text="Any date in the week wanted")


class HuddleSerializer(serializers.ModelSerializer):
    school = SchoolRefSerializer(read_only=True)
    rows = serializers.IntegerField(source="row_count", read_only=True)
    discussed = serializers.IntegerField(source="discussed_count", read_only=True)

    class Meta:
        model = Huddle
        fields = ["id", "school", "week_start", "generated_at", "as_of", "rows", "discussed"]
        read_only_fields = fields


class AttendeeSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    name = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField()

    def get_name(self, attendance) -> str:
        user = attendance.member.user
        return user.get_full_name() or user.email


class HuddleDetailSerializer(HuddleSerializer):
    attendance = AttendeeSerializer(many=True, read_only=True, source="attendees")

    class Meta(HuddleSerializer.Meta):
        fields = [*HuddleSerializer.Meta.fields, "attendance"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    """A row's reason with its label and why rendered in the request's language, beside the codes."""

    rule = serializers.CharField()
    tier = serializers.IntegerField()
    label = serializers.SerializerMethodField()
    why = serializers.SerializerMethodField()
    why_code = serializers.CharField(required=False)
    why_params = serializers.DictField(required=False)
    first_met = serializers.CharField()

    def get_label(self, reason) -> str:
        return reason_label(reason)

    def get_why(self, reason) -> str:
        return reason_why(reason)


class HuddleRowSerializer(serializers.ModelSerializer):
    student = StudentRefSerializer(read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), allow_null=True, required=False)
    agenda = serializers.BooleanField(
        source="on_agenda", read_only=True,
        help_text="True for this week's agenda; false for on track and ready to close (issue 10).",
    )  # fmt: skip
    tier2_clock = serializers.DateField(
        read_only=True, help_text="The day the Tier 2 checklist's deadlines count from: the flag's first huddle."
    )

    class Meta:
        model = HuddleRow
        fields = [
            "id", "huddle", "student", "section", "agenda", "tier2_clock", "grade", "membership_days", "absent_days", "absence_rate", "band",
            "absences_left", "trend", "reasons", "owner", "next_step", "next_step_due", "discussed", "discussed_at",
            "carried_over_from", "outcome", "outcome_reason",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("owner", "next_step", "next_step_due", "discussed")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.instance if isinstance(self.instance, HuddleRow) else None
        if row is not None:
            self.fields["owner"].queryset = selectors.owner_choices(school=row.huddle.school)


class OutreachActionSerializer(serializers.ModelSerializer):
    student = serializers.IntegerField(source="student_id")
    author = serializers.IntegerField(source="author_id", read_only=True)
    restricted = serializers.SerializerMethodField()

    class Meta:
        model = OutreachAction
        fields = [
            "id", "student", "flag", "huddle_row", "attempt_date", "method", "reached", "barrier", "support_offered",
            "follow_up_date", "notes", "sensitive", "author", "restricted", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "flag", "huddle_row", "author", "created_at"]
        extra_kwargs = {"method": {"choices": Method.choices}, "barrier": {"choices": Barrier.choices}}

    def get_restricted(self, action) -> bool:
        return _restricted(self.context["access"], action)

    def to_representation(self, action):
        data = super().to_representation(action)
        if data["restricted"]:
            data.update(barrier="", support_offered="", notes="")
        return data


def _restricted(access, action) -> bool:
    if not action.sensitive:
        return False
    schools = permissions.current_school_ids(action.student.enrollments.all(), timezone.localdate())
    return not permissions.reads_sensitive(access, author_id=action.author_id, school_ids=schools)


def _audit(request, object_type: str, obj, students, **detail) -> None:
    students_shown(request, students, what=object_type, obj=obj, api=True, **detail)


class HuddleAPIMixin(DistrictAPIMixin):
    required_roles = permissions.HUDDLE_ROLES


@extend_schema(parameters=[HuddleQuerySerializer])
class HuddleListAPI(HuddleAPIMixin, generics.ListAPIView):
    """Huddles the caller may open, newest week first; filter by school and week."""

    serializer_class = HuddleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Huddle.objects.none()
        query = HuddleQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        huddles = selectors.huddle_list_with_counts(access=self.request.access)
        if "school" in query.validated_data:
            huddles = huddles.filter(school_id=query.validated_data["school"])
        if "week" in query.validated_data:
            huddles = huddles.filter(week_start=services.week_start_of(query.validated_data["week"]))
        return huddles


class HuddleDetailAPI(HuddleAPIMixin, generics.GenericAPIView):
    """One huddle with who attended and how many rows were discussed."""

    serializer_class = HuddleDetailSerializer

    def get(self, request, district, huddle_id):
        selectors.huddle_get_visible(access=request.access, huddle_id=huddle_id)
        huddle = selectors.huddle_list_with_counts(access=request.access).get(pk=huddle_id)
        huddle.attendees = selectors.huddle_attendance(huddle=huddle)
        return Response(self.get_serializer(huddle).data)


class HuddleRowListAPI(StudentsShownMixin, HuddleAPIMixin, generics.ListAPIView):
    """The huddle's rows the caller may see (a mentor: their students'), in meeting order."""

    serializer_class = HuddleRowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HuddleRow.objects.none()
        huddle = selectors.huddle_get_visible(access=self.request.access, huddle_id=self.kwargs["huddle_id"])
        self.audit_what, self.audit_object = "huddle", huddle
        rows = selectors.huddle_row_list_visible(access=self.request.access, huddle=huddle)
        return rows.select_related("student").order_by("position", "id")


class HuddleRowDetailAPI(HuddleAPIMixin, generics.GenericAPIView):
    """One row; PATCH sets discussed, the owner and the next step (the school's team only)."""

    serializer_class = HuddleRowSerializer

    def get(self, request, district, row_id):
        row = selectors.huddle_row_get_visible(access=request.access, row_id=row_id)
        _audit(request, "huddle_row", row, [row.student_id])
        return Response(self.get_serializer(row).data)

    def patch(self, request, district, row_id):
        row = selectors.huddle_row_get_visible(access=request.access, row_id=row_id)
        latest = selectors.huddle_is_latest(huddle=row.huddle)
        if not (row.is_open and latest and permissions.runs_huddle(request.access, row.huddle.school_id)):
            raise PermissionDenied("Only the school's attendance team changes an open row of its newest huddle.")
        changes = self.get_serializer(row, data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        data, by = changes.validated_data, request.access.membership
        with _as_drf_errors():
            if "discussed" in data:
                services.huddle_row_mark_discussed(row=row, by=by, discussed=data["discussed"])
            if {"owner", "next_step", "next_step_due"} & set(data):
                services.huddle_row_plan(
                    row=row, by=by, owner=data.get("owner", row.owner), next_step=data.get("next_step", row.next_step),
                    next_step_due=data.get("next_step_due", row.next_step_due),
                )  # fmt: skip
        _audit(request, "huddle_row", row, [row.student_id])
        return Response(self.get_serializer(row).data)


class ActionQuerySerializer(serializers.Serializer):
    student = serializers.IntegerField(required=False, help_text="Student id")
    since = serializers.DateField(required=False)


@extend_schema(parameters=[ActionQuerySerializer])
class OutreachActionListAPI(StudentsShownMixin, HuddleAPIMixin, generics.ListCreateAPIView):
    """The action log of the students the caller may see; POST logs a contact (the student's
    school team or their mentor)."""

    serializer_class = OutreachActionSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "access": getattr(self.request, "access", None)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutreachAction.objects.none()
        query = ActionQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        actions = selectors.outreach_action_list_visible(access=self.request.access).prefetch_related(
            "student__enrollments"
        )
        if "student" in query.validated_data:
            actions = actions.filter(student_id=query.validated_data["student"])
        if "since" in query.validated_data:
            actions = actions.filter(attempt_date__gte=query.validated_data["since"])
        self.audit_what = "outreach_actions"
        return actions

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        student = student_get_visible(access=request.access, student_id=data.pop("student_id"))
        current = student.metrics.filter(run__is_current=True).values_list("current_school_id", flat=True).first()
        mentees = permissions.mentee_ids(request.access)
        if not permissions.works_on_student(request.access, school_id=current, student_id=student.pk, mentees=mentees):
            raise PermissionDenied("Only the student's school team or mentor logs contacts for them.")
        with _as_drf_errors():
            action = services.outreach_action_create(student=student, author=request.access.membership, **data)
        return Response(self.get_serializer(action).data, status=201)


class OutreachActionDetailAPI(HuddleAPIMixin, generics.GenericAPIView):
    serializer_class = OutreachActionSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "access": getattr(self.request, "access", None)}

    def get(self, request, district, action_id):
        action = selectors.outreach_action_list_visible(access=request.access).filter(pk=action_id).first()
        if action is None:
            raise Http404("No such action.")
        _audit(request, "outreach_action", action, [action.student_id])
        return Response(self.get_serializer(action).data)


class _as_drf_errors:
    """Service ValidationErrors become DRF's 400 with the same field messages."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is not None and issubclass(kind, ValidationError):
            raise DRFValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
            )
        return False
