"""Tier 3 endpoints under /d/<district>/api/ (issue 11). District IT teams script against these,
so their names, fields and status codes are a contract:

- partners/              GET; POST by district admins only → 201 with id
- cases/                 GET; POST {"student", "lead"?} → 201 with id
- cases/<id>/            GET; PATCH the plan (goal_rate, goal_by, plan_started_on, barriers, …)
- cases/<id>/interventions/  POST; a legal_referral the support-first guard refuses is
                         400 {"missing": [codes]}; a district admin's override_reason passes it,
                         anyone else's is 403
- cases/<id>/referrals/  POST; shares_records without the consent fields is 400 {"consent": …};
  cases/<id>/referrals/<id>/  PATCH {"connected_on", "outcome"}
- cases/<id>/meetings/   POST {"held_on", "family_attended"} ("invitation": true for an invitation)
- cases/<id>/reviews/    POST {"review_date", "notes"} → 201 with days_since, rate_since, rate_before

The same selectors, permissions and services as the pages: an attendance lead sees that a case
exists, its lead and its next review; district staff read; mentors get 403. Reads of cases are
audit-logged, as on the pages. Every date may be in the past.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from districts.api import DistrictAPIMixin
from districts.audit import students_shown
from districts.models import Membership
from districts.tenancy import current_district
from outreach.models import Barrier
from outreach.permissions import current_school_ids
from students.selectors import student_get_visible

from . import permissions, selectors, services
from .models import Case, CaseOutcome, Intervention, InterventionKind, Meeting, Partner, Referral, Review


def barrier_codes(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=Barrier.choices), **kwargs)


def _shown(request, student_ids, what: str, obj=None, label: str = "", **detail) -> None:
    students_shown(request, student_ids, what=what, obj=obj, label=label, api=True, **detail)


class _as_drf_errors:
    """Service errors become DRF answers: ValidationError 400 with the same field messages,
    PermissionDenied 403."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            return False
        if issubclass(kind, services.GuardRefused):
            raise _GuardResponse(error.missing)
        if issubclass(kind, DjangoPermissionDenied):
            raise PermissionDenied(str(error) or None)
        if issubclass(kind, ValidationError):
            raise DRFValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
            )
        return False


class _GuardResponse(DRFValidationError):
    """400 {"missing": [codes]}: exactly the support-first codes that fail, in their order."""

    def __init__(self, missing: list[str]):
        super().__init__({"missing": missing})


# ----------------------------------------------------------------------------- partners


class PartnerSerializer(serializers.ModelSerializer):
    services = barrier_codes(allow_empty=False)

    class Meta:
        model = Partner
        fields = [
            "id", "name", "services", "eligibility", "contact_name", "phone", "email", "website", "intake_process",
            "expected_response_days", "connection_definition", "is_active",
        ]  # fmt: skip
        read_only_fields = ["id"]
        extra_kwargs = {"expected_response_days": {"required": True}}


class PartnerListAPI(DistrictAPIMixin, generics.ListCreateAPIView):
    """The partner directory; POST adds a partner (district admins only)."""

    serializer_class = PartnerSerializer
    required_roles = permissions.PARTNER_ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Partner.objects.none()
        return selectors.partner_list(include_inactive=permissions.keeps_partners(self.request.access))

    def create(self, request, *args, **kwargs):
        if not permissions.keeps_partners(request.access):
            raise PermissionDenied("Only district admins keep the partner directory.")
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        with _as_drf_errors():
            partner = services.partner_create(district=request.district, **incoming.validated_data)
        return Response(self.get_serializer(partner).data, status=201)


# ----------------------------------------------------------------------------- cases


class CaseSummarySerializer(serializers.ModelSerializer):
    """What an attendance lead sees: that the case exists, its lead and next review."""

    student_name = serializers.CharField(source="student.full_name", read_only=True)
    lead_name = serializers.SerializerMethodField()
    full = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "student", "student_name", "school", "status", "lead", "lead_name", "next_review_on", "full"]
        read_only_fields = fields

    def get_lead_name(self, case) -> str:
        user = case.lead.user
        return user.get_full_name() or user.email

    def get_full(self, case) -> bool:
        return False


class CaseSerializer(CaseSummarySerializer):
    """The whole case for those who read it. goal_rate is a fraction (0.90 = 90% attended)."""

    goal_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True, required=False)
    barriers = barrier_codes(required=False)
    flags = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(CaseSummarySerializer.Meta):
        fields = [
            *CaseSummarySerializer.Meta.fields, "opened_on", "opened_by", "triggered_on", "lead_assigned_on",
            "plan_written_on", "days_to_lead", "days_to_plan", "barriers", "goal_rate", "goal_by", "plan_started_on",
            "review_every_days", "closed_on", "outcome", "closure_note", "flags",
        ]  # fmt: skip
        read_only_fields = [
            f for f in fields if f not in ("goal_rate", "goal_by", "plan_started_on", "barriers", "review_every_days")
        ]

    def get_full(self, case) -> bool:
        return True


def _case_data(request, case: Case) -> dict:
    full = permissions.reads_case(request.access, case)
    return (CaseSerializer if full else CaseSummarySerializer)(case, context={"request": request}).data


class CaseCreateSerializer(serializers.Serializer):
    student = serializers.IntegerField(help_text="Student id")
    lead = serializers.IntegerField(required=False, help_text="Membership id of a counselor; default: the caller")
    opened_on = serializers.DateField(required=False, help_text="Default: today; may be in the past")
    flag = serializers.IntegerField(required=False, help_text="The Tier 3 flag the case answers")


class CaseListAPI(DistrictAPIMixin, generics.ListCreateAPIView):
    """Cases the caller sees (an attendance lead: that they exist, their lead and next review);
    POST opens a case (counselors of the student's school)."""

    serializer_class = CaseSerializer
    required_roles = permissions.CASE_ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        cases = selectors.case_list_visible(access=self.request.access).select_related("student", "lead__user")
        status = self.request.query_params.get("status")
        if status in Case.Status.values:
            cases = cases.filter(status=status)
        return cases.prefetch_related("flags").order_by("-opened_on", "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        _shown(request, [case.student_id for case in page], "cases", label="case list")
        return self.get_paginated_response([_case_data(request, case) for case in page])

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request, *args, **kwargs):
        incoming = CaseCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, access = incoming.validated_data, request.access
        student = student_get_visible(access=access, student_id=data["student"])
        school_id = services.student_current_school_id(student, timezone.localdate())
        if not permissions.opens_cases(access, school_id):
            raise PermissionDenied("Only a counselor of the student's school opens a case.")
        lead = _member(data.get("lead"), "lead")
        flag = student.flags.filter(pk=data["flag"]).first() if "flag" in data else None
        if "flag" in data and flag is None:
            raise DRFValidationError({"flag": ["No such flag for this student."]})
        with _as_drf_errors():
            case = services.case_open(
                student=student, by=access.membership, lead=lead, flag=flag, opened_on=data.get("opened_on")
            )
        return Response(CaseSerializer(case).data, status=201)


def _member(membership_id, field: str) -> Membership | None:
    if membership_id is None:
        return None
    member = Membership.objects.filter(pk=membership_id).select_related("user").first()
    if member is None:
        raise DRFValidationError({field: ["No such member of this district."]})
    return member


class CasePatchSerializer(serializers.Serializer):
    goal_rate = serializers.DecimalField(max_digits=6, decimal_places=4, allow_null=True, required=False)
    goal_by = serializers.DateField(allow_null=True, required=False)
    plan_started_on = serializers.DateField(allow_null=True, required=False)
    barriers = barrier_codes(required=False)
    review_every_days = serializers.IntegerField(required=False)
    lead = serializers.IntegerField(required=False, help_text="Hand the case to another counselor")
    outcome = serializers.ChoiceField(choices=CaseOutcome.choices, required=False, help_text="Closes the case")
    closed_on = serializers.DateField(required=False)
    closure_note = serializers.CharField(required=False, allow_blank=True)


def _case_for(request, case_id: int, *, work: bool = False, read: bool = True) -> Case:
    case = selectors.case_get_visible(access=request.access, case_id=case_id)
    if work and not permissions.works_on_case(request.access, case):
        raise PermissionDenied("Only the case lead and the counselors of the student's school change a case.")
    if read and not permissions.reads_case(request.access, case):
        raise PermissionDenied("The case's plan and notes are for its counselors.")
    return case


class CaseDetailAPI(DistrictAPIMixin, generics.GenericAPIView):
    """One case; PATCH changes the plan (the lead and the school's counselors), hands it to
    another counselor (`lead`) or closes it (`outcome`, `closed_on`, `closure_note`)."""

    serializer_class = CaseSerializer
    required_roles = permissions.CASE_ROLES

    def get(self, request, district, case_id):
        case = selectors.case_get_visible(access=request.access, case_id=case_id)
        _shown(
            request,
            [case.student_id],
            "case",
            obj=case,
            label=f"Case of {case.student.full_name} ({case.student.sis_id})",
        )
        return Response(_case_data(request, case))

    @extend_schema(request=CasePatchSerializer, responses={200: CaseSerializer})
    def patch(self, request, district, case_id):
        case = _case_for(request, case_id, work=True)
        incoming = CasePatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, by = dict(incoming.validated_data), request.access.membership
        plan = {name: data.pop(name) for name in list(data) if name in CASE_PLAN_FIELDS}
        with _as_drf_errors():
            if plan:
                services.case_plan_update(case=case, by=by, **plan)
            if "lead" in data:
                services.case_assign_lead(case=case, lead=_member(data["lead"], "lead"), by=by)
            if "outcome" in data:
                services.case_close(
                    case=case, by=by, outcome=data["outcome"], note=data.get("closure_note", ""),
                    closed_on=data.get("closed_on"),
                )  # fmt: skip
        case.refresh_from_db()
        return Response(CaseSerializer(case).data)


CASE_PLAN_FIELDS = ("goal_rate", "goal_by", "plan_started_on", "barriers", "review_every_days")


# ----------------------------------------------------------------------------- a case's records


class CaseChildAPI(DistrictAPIMixin, generics.ListCreateAPIView):
    """Base of a case's record lists: readers list, the case's counselors add."""

    required_roles = permissions.CASE_ROLES
    related_name = ""

    def case(self) -> Case:
        if not hasattr(self, "_case"):
            self._case = _case_for(self.request, self.kwargs["case_id"])
        return self._case

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.serializer_class.Meta.model.objects.none()
        return getattr(self.case(), self.related_name).all()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "access": getattr(self.request, "access", None)}

    def list(self, request, *args, **kwargs):
        case = self.case()
        _shown(
            request, [case.student_id], f"case_{self.related_name}", obj=case, label=f"Case of {case.student.full_name}"
        )
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        case = self.case()
        self.check_may_add(request, case)
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        with _as_drf_errors():
            record = self.perform_add(case, dict(incoming.validated_data))
        return Response(self.get_serializer(record).data, status=201)

    def check_may_add(self, request, case: Case) -> None:
        if not (case.is_open and permissions.works_on_case(request.access, case)):
            raise PermissionDenied("Only the case lead and the counselors of the student's school add to an open case.")


class InterventionSerializer(serializers.ModelSerializer):
    who = serializers.CharField(read_only=True)
    override_reason = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = Intervention
        fields = [
            "id", "kind", "description", "owner", "owner_name", "who", "start_date", "end_date", "frequency",
            "override_reason", "override_missing", "override_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "who", "override_missing", "override_by", "created_at"]
        extra_kwargs = {"owner": {"queryset": Membership.objects.none()}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if current_district() is not None:  # inside the district's scope: its members only
            self.fields["owner"].queryset = Membership.objects.filter(is_active=True)


class InterventionListAPI(CaseChildAPI):
    """The case's interventions; POST adds one. A legal_referral is answered 400
    {"missing": [codes]} while the support-first guard fails; a district admin's
    `override_reason` passes it (audit-logged, shown on the case); anyone else's is 403."""

    serializer_class = InterventionSerializer
    related_name = "interventions"

    def check_may_add(self, request, case: Case) -> None:
        kind = request.data.get("kind") if hasattr(request.data, "get") else None
        if request.data.get("override_reason") and not permissions.overrides_guard(request.access):
            raise PermissionDenied("Only a district admin may override the support-first guard.")
        if kind == InterventionKind.LEGAL_REFERRAL and permissions.overrides_guard(request.access) and case.is_open:
            return
        super().check_may_add(request, case)

    @extend_schema(responses={201: InterventionSerializer, 400: OpenApiResponse(description='{"missing": [codes]}')})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform_add(self, case, data):
        return services.intervention_create(case=case, by=self.request.access.membership, request=self.request, **data)


class ReferralSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.none(), allow_null=True, required=False)
    overdue = serializers.SerializerMethodField()
    due_on = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id", "partner", "service", "referred_on", "declined", "no_partner", "shares_records", "consent_given_by",
            "consent_given_on", "consent_scope", "consent_expires_on", "connected_on", "outcome", "notes", "due_on",
            "overdue", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "connected_on", "outcome", "due_on", "overdue", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if current_district() is not None:  # inside the district's scope: its directory only
            self.fields["partner"].queryset = Partner.objects.all()

    def get_overdue(self, referral) -> bool:
        return referral.is_overdue(timezone.localdate())

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_due_on(self, referral):
        due = referral.due_on()
        return due.isoformat() if due else None


class ReferralListAPI(CaseChildAPI):
    """The case's referrals; POST records one. `shares_records: true` needs the guardian's
    consent first (consent_given_by, consent_given_on, consent_scope): without it, 400 with a
    `consent` error. Every disclosure is audit-logged. `declined: true` records a referral the
    family declined; `no_partner: true` one for a barrier no partner serves."""

    serializer_class = ReferralSerializer
    related_name = "referrals"

    def get_queryset(self):
        return super().get_queryset().select_related("partner")

    def perform_add(self, case, data):
        return services.referral_create(case=case, by=self.request.access.membership, request=self.request, **data)


class ReferralPatchSerializer(serializers.Serializer):
    connected_on = serializers.DateField(required=False, allow_null=True)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ReferralDetailAPI(DistrictAPIMixin, generics.GenericAPIView):
    """One referral; PATCH {"connected_on", "outcome"} confirms the connection."""

    serializer_class = ReferralSerializer
    required_roles = permissions.CASE_ROLES

    def _referral(self, request, case_id, referral_id, *, work=False) -> Referral:
        case = _case_for(request, case_id, work=work)
        referral = case.referrals.select_related("partner").filter(pk=referral_id).first()
        if referral is None:
            raise Http404("No such referral.")
        return referral

    def get(self, request, district, case_id, referral_id):
        referral = self._referral(request, case_id, referral_id)
        _shown(request, [referral.case.student_id], "case_referral", obj=referral, label=str(referral))
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=ReferralPatchSerializer, responses={200: ReferralSerializer})
    def patch(self, request, district, case_id, referral_id):
        referral = self._referral(request, case_id, referral_id, work=True)
        incoming = ReferralPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        with _as_drf_errors():
            services.referral_update(referral=referral, by=request.access.membership, **incoming.validated_data)
        return Response(self.get_serializer(referral).data)


class _NotesSerializer(serializers.ModelSerializer):
    """Sensitive notes are blanked for all but the school's counselors and their author."""

    restricted = serializers.SerializerMethodField()

    def get_restricted(self, record) -> bool:
        if not record.sensitive:
            return False
        access = self.context["access"]
        if "school_ids" not in self.context:  # the student's current schools, as in outreach
            enrollments = record.case.student.enrollments.all()
            self.context["school_ids"] = current_school_ids(enrollments, timezone.localdate())
        return not permissions.reads_sensitive(
            access, author_id=record.created_by_id, school_ids=self.context["school_ids"]
        )

    def to_representation(self, record):
        data = super().to_representation(record)
        if data["restricted"]:
            data["notes"] = ""
        return data


class MeetingSerializer(_NotesSerializer):
    invitation = serializers.BooleanField(required=False, write_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id", "kind", "held_on", "family_attended", "invitation", "attendees", "notes", "sensitive", "restricted",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "kind", "restricted", "created_at"]


class MeetingListAPI(CaseChildAPI):
    """The case's meetings; POST records one ({"held_on", "family_attended"}) or, with
    "invitation": true, an invitation the family did not take up."""

    serializer_class = MeetingSerializer
    related_name = "meetings"

    def perform_add(self, case, data):
        return services.meeting_create(case=case, by=self.request.access.membership, **data)


class ReviewSerializer(_NotesSerializer):
    class Meta:
        model = Review
        fields = [
            "id", "review_date", "notes", "sensitive", "restricted", "plan_started_on", "through", "days_since",
            "absent_since", "rate_since", "days_before", "absent_before", "rate_before", "created_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("review_date", "notes", "sensitive")]


class ReviewListAPI(CaseChildAPI):
    """The case's reviews; POST records one. Its figures are computed from the attendance data:
    `days_since` membership days from the plan's start through min(review date, the latest
    computed date), `rate_since` = present days / days_since, `rate_before` the same over as many
    membership days just before the plan (fewer if the year has fewer). Rates are fractions 0–1."""

    serializer_class = ReviewSerializer
    related_name = "reviews"

    def perform_add(self, case, data):
        return services.review_create(case=case, by=self.request.access.membership, **data)
