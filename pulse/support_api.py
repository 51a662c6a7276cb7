"""Support requests on the API: /d/<district>/api/support-requests/ (GET; POST by a school's
attendance lead or counselor) and /d/<district>/api/support-requests/<id>/ (GET, with the thread
and the ids of the students named that the caller may see). Same selectors, permissions and
services as the pages; the students shown are audit-logged."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from districts.api import DistrictAPIMixin
from districts.audit import students_shown
from districts.models import School
from students.selectors import student_list_visible

from . import support_permissions as permissions
from . import support_selectors as selectors
from . import support_services as services
from .models import SupportCategory, SupportComment, SupportRequest


class SupportCommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.user.email")

    class Meta:
        model = SupportComment
        fields = ["id", "kind", "author", "body", "created_at"]


class SupportRequestSerializer(serializers.ModelSerializer):
    school = serializers.IntegerField(source="school_id")
    requested_by = serializers.CharField(source="requested_by.user.email")
    owner = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = SupportRequest
        fields = [
            "id", "school", "category", "subject", "description", "status", "requested_by", "requested_at",
            "owner", "due_on", "overdue", "resolved_at", "resolution",
        ]  # fmt: skip

    def get_owner(self, obj) -> str | None:
        return obj.owner.user.email if obj.owner_id else None

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(timezone.localdate())


class SupportRequestDetailSerializer(SupportRequestSerializer):
    students = serializers.SerializerMethodField()
    comments = SupportCommentSerializer(many=True, read_only=True)

    class Meta(SupportRequestSerializer.Meta):
        fields = [*SupportRequestSerializer.Meta.fields, "students", "comments"]

    def get_students(self, obj) -> list[int]:
        return self.context["student_ids"]


class SupportRequestCreateSerializer(serializers.Serializer):
    school = serializers.IntegerField()
    category = serializers.ChoiceField(choices=SupportCategory.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000)
    students = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class SupportRequestListAPI(DistrictAPIMixin, generics.ListCreateAPIView):
    """Requests the caller sees, newest first (`?status=open|resolved|overdue`). POST files one
    for one of the caller's schools; `students` are ids of students the caller sees."""

    serializer_class = SupportRequestSerializer
    required_roles = permissions.SUPPORT_ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupportRequest.objects.none()
        status = self.request.query_params.get("status", "")
        if status not in {"", "open", "resolved", "overdue"}:
            raise DRFValidationError({"status": "One of open, resolved, overdue."})
        return selectors.support_request_list(access=self.request.access, today=timezone.localdate(), status=status)

    def get_serializer_class(self):
        if self.request.method == "POST":
            return SupportRequestCreateSerializer
        return SupportRequestSerializer

    def create(self, request, *args, **kwargs):
        access = request.access
        if not permissions.files_requests(access):
            raise PermissionDenied("Only a school's attendance lead or counselor files a support request.")
        incoming = SupportRequestCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        school = School.objects.filter(pk=data["school"], pk__in=permissions.filing_school_ids(access)).first()
        if school is None:
            raise DRFValidationError({"school": "Not one of your schools."})
        wanted = set(data["students"])
        students = list(student_list_visible(access=access).filter(pk__in=wanted))
        if missing := wanted - {student.pk for student in students}:
            raise DRFValidationError({"students": f"Unknown students: {sorted(missing)}"})
        try:
            created = services.support_request_create(
                school=school, by=access.membership, category=data["category"], subject=data["subject"],
                description=data["description"], students=students,
            )  # fmt: skip
        except ValidationError as error:
            raise DRFValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
        return Response(SupportRequestSerializer(created).data, status=201)


class SupportRequestDetailAPI(DistrictAPIMixin, generics.RetrieveAPIView):
    serializer_class = SupportRequestDetailSerializer
    required_roles = permissions.SUPPORT_ROLES

    def retrieve(self, request, *args, **kwargs):
        support_request = selectors.support_request_get_visible(
            access=request.access, request_id=kwargs["support_request_id"]
        )
        students = selectors.support_request_students(access=request.access, request=support_request)
        students_shown(request, students, what="support_request", obj=support_request, api=True)
        context = {**self.get_serializer_context(), "student_ids": [student.pk for student in students]}
        return Response(SupportRequestDetailSerializer(support_request, context=context).data)
