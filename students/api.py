"""Student and school endpoints under /d/<district>/api/. Visibility comes from the same
selectors as the pages, so a lead's API sees what their roster page sees, and no more."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from districts.api import DistrictAPIMixin, SchoolRefSerializer, StudentsShownMixin
from districts.audit import students_shown
from districts.models import Membership, Role, School

from . import selectors, services
from .models import Enrollment, Guardian, MentorAssignment, Student
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


class MentorAssignmentSerializer(serializers.ModelSerializer):
    """A student assigned to a mentor. POST takes `student` (id) and `mentor` (membership id,
    as /api/me/ and the people page name it); `student_sis_id` and `mentor_email` are for reading."""

    student = serializers.PrimaryKeyRelatedField(queryset=Student.objects.none())
    mentor = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    student_sis_id = serializers.CharField(source="student.sis_id", read_only=True)
    mentor_email = serializers.EmailField(source="mentor.user.email", read_only=True)

    class Meta:
        model = MentorAssignment
        fields = ["id", "student", "student_sis_id", "mentor", "mentor_email", "assigned_at"]
        read_only_fields = ["id", "assigned_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not getattr(self.context.get("view"), "swagger_fake_view", False):
            self.fields["student"].queryset = Student.objects.all()  # the district's, inside its scope
            self.fields["mentor"].queryset = selectors.mentor_list()


class MentorAssignmentListAPI(StudentsShownMixin, DistrictAPIMixin, generics.ListCreateAPIView):
    """Who mentors whom (district admins): GET lists the assignments (?mentor=<membership id>);
    POST assigns a student to a mentor (201; an existing assignment is returned as it is)."""

    required_roles = (Role.DISTRICT_ADMIN,)
    audit_what = "mentor_assignment_api"
    serializer_class = MentorAssignmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MentorAssignment.objects.none()
        assignments = selectors.mentor_assignment_list()
        mentor = self.request.query_params.get("mentor")
        if mentor and mentor.isdigit():
            assignments = assignments.filter(mentor_id=int(mentor))
        return assignments

    def perform_create(self, serializer):
        student, mentor = serializer.validated_data["student"], serializer.validated_data["mentor"]
        try:
            services.mentor_assign(
                district=self.request.district,
                mentor=mentor,
                students=[student],
                user=self.request.user,
                request=self.request,
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages) from error
        serializer.instance = MentorAssignment.objects.select_related("student", "mentor__user").get(
            student=student, mentor=mentor
        )


class MentorAssignmentDetailAPI(DistrictAPIMixin, generics.RetrieveDestroyAPIView):
    """One assignment (district admins); DELETE ends it."""

    required_roles = (Role.DISTRICT_ADMIN,)
    serializer_class = MentorAssignmentSerializer

    def get_object(self):
        return selectors.mentor_assignment_get(assignment_id=self.kwargs["assignment_id"])

    def retrieve(self, request, *args, **kwargs):
        assignment = self.get_object()
        students_shown(request, [assignment], what="mentor_assignment_api", obj=assignment)
        return Response(self.get_serializer(assignment).data)

    def perform_destroy(self, instance):
        services.mentor_unassign(
            district=self.request.district, assignment=instance, user=self.request.user, request=self.request
        )
