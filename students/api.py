"""Student and school endpoints under /d/<district>/api/. Visibility comes from the same
selectors as the pages, so a lead's API sees what their roster page sees, and no more."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from districts.api import DistrictAPIMixin, SchoolRefSerializer, StudentsShownMixin
from districts.models import School

from . import selectors
from .models import Enrollment, Guardian, Student
from .services import student_view_record


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "sis_id", "name", "grade_low", "grade_high"]


class StudentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Student
        fields = ["id", "sis_id", "first_name", "last_name", "grade"]


class EnrollmentSerializer(serializers.ModelSerializer):
    school = SchoolRefSerializer(read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "school", "grade", "entry_date", "exit_date", "exit_reason"]


class GuardianSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guardian
        fields = ["id", "name", "relationship", "phone", "email", "language", "preferred_channel"]


class StudentDetailSerializer(serializers.ModelSerializer):
    enrollments = EnrollmentSerializer(many=True, read_only=True)
    guardians = GuardianSerializer(many=True, read_only=True)

    class Meta:
        model = Student
        fields = [
            "id", "sis_id", "first_name", "last_name", "birth_date", "grade", "home_language",
            "econ_disadvantaged", "disability", "english_learner", "race_ethnicity", "homeless", "foster",
            "enrollments", "guardians",
        ]  # fmt: skip


class StudentFilterSerializer(serializers.Serializer):
    """The roster filters. `school` must be a school the caller may see; an unknown or foreign
    school id is the same 400 as a malformed one."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Name or SIS id")
    school = serializers.PrimaryKeyRelatedField(queryset=School.objects.none(), required=False)
    grade = serializers.CharField(required=False, allow_blank=True, max_length=4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        access = self.context.get("access")
        if access is not None:
            self.fields["school"].queryset = selectors.school_list_visible(access=access)


class SchoolListAPI(DistrictAPIMixin, generics.ListAPIView):
    """The schools the caller works with: all of them for district roles, their own for school roles."""

    serializer_class = SchoolSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return School.objects.none()
        return selectors.school_list_visible(access=self.request.access)


class StudentPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500  # an integrator pulling a roster pages through it; no one request is the district


@extend_schema(parameters=[StudentFilterSerializer])
class StudentListAPI(StudentsShownMixin, DistrictAPIMixin, generics.ListAPIView):
    """The students the caller may see, filtered like the roster page. Names and grades only;
    each page is audit-logged with the students it lists."""

    audit_what = "student_list_api"
    serializer_class = StudentSummarySerializer
    pagination_class = StudentPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Student.objects.none()
        filters = StudentFilterSerializer(data=self.request.query_params, context={"access": self.request.access})
        filters.is_valid(raise_exception=True)
        return selectors.student_search(
            access=self.request.access,
            query=filters.validated_data.get("q", ""),
            school=filters.validated_data.get("school"),
            grade=filters.validated_data.get("grade", ""),
        )


class StudentDetailAPI(DistrictAPIMixin, generics.GenericAPIView):
    """One student's record. Every read is audit-logged, as on the page (SPEC §9)."""

    serializer_class = StudentDetailSerializer

    def get(self, request, district, student_id):
        student = selectors.student_get_visible(access=request.access, student_id=student_id)
        student_view_record(request=request, student=student)
        return Response(self.get_serializer(student).data)
