"""The API's district gate, the caller's own standing, and API tokens.

DistrictScopeMiddleware only resolves the district for /d/<district>/api/ paths: token users are
anonymous until DRF authenticates them. So membership is checked here, after authentication, and
every district endpoint inherits the check from DistrictAPIMixin rather than listing it.
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from . import login_throttle, selectors, services
from .audit import students_shown
from .tokens import api_token_issue


class IsDistrictMember(BasePermission):
    """An active member of the URL's district passes; anyone else authenticated gets 404, exactly
    as for a district that does not exist. Sets `request.access` for the selectors."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401/403 before anything is said about the district
        district = getattr(request, "district", None)
        access = selectors.district_access_get(district=district, user=request.user) if district else None
        if access is None:
            raise NotFound("No such district.")
        request.access = request._request.access = access
        return True


class HasDistrictRole(BasePermission):
    """A member whose roles miss the view's `required_roles` knows the district exists: 403."""

    message = "Your role in this district does not include this endpoint."

    def has_permission(self, request, view):
        roles = getattr(view, "required_roles", ())
        return not roles or request.access.has_role(*roles)


class DistrictAPIMixin:
    """Base of every /d/<district>/api/ view. Membership and role checks come first whatever a
    subclass lists in permission_classes, so a new endpoint cannot drop them by accident."""

    required_roles: tuple[str, ...] = ()

    def get_permissions(self):
        extra = [p for p in super().get_permissions() if not isinstance(p, (IsDistrictMember, HasDistrictRole))]
        return [IsDistrictMember(), HasDistrictRole(), *extra]


class StudentsShownMixin:
    """For list endpoints whose items name students: the page of items returned is recorded in
    the audit trail (districts.audit), one entry per response. Items are students or anything
    with a student_id; `students_of` says otherwise."""

    audit_what = ""
    audit_object = None  # e.g. the huddle whose rows these are

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        shown = page if page is not None else queryset
        what = self.audit_what or type(self).__name__
        students_shown(self.request, self.students_of(shown), what=what, obj=self.audit_object, api=True)
        return page

    def students_of(self, items):
        return items


class SchoolRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RoleGrantSerializer(serializers.Serializer):
    role = serializers.CharField()
    label = serializers.CharField(source="get_role_display")
    school = SchoolRefSerializer(allow_null=True)


class DistrictRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    district = DistrictRefSerializer()
    roles = serializers.ListField(child=serializers.CharField())
    grants = RoleGrantSerializer(many=True)
    sees_all_schools = serializers.BooleanField()


class MeAPI(DistrictAPIMixin, APIView):
    """Who the caller is in this district: their roles and the schools those roles name."""

    @extend_schema(responses=MeSerializer)
    def get(self, request, district):
        access = request.access
        me = {
            "email": request.user.email,
            "name": request.user.get_full_name(),
            "district": access.district,
            "roles": sorted(access.roles),
            "grants": selectors.role_grant_list(membership=access.membership),
            "sees_all_schools": access.sees_all_schools,
        }
        return Response(MeSerializer(me).data)


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, write_only=True, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send as `Authorization: Token <token>`. Shown once; only its digest is kept."
    )
    expiry = serializers.DateTimeField(help_text="After this the token stops working (the district's token lifetime).")


class TokenObtainAPI(APIView):
    """Exchange email and password for a new API token, through the sign-in form's failure
    throttle, so the API is no side door for password guessing. Each call makes a new token (one
    per client); a person lists and revokes theirs on /accounts/tokens/."""

    authentication_classes: list = []  # credentials are in the body; no session, so no CSRF either
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenObtainSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Missing fields or wrong email or password."),
            429: OpenApiResponse(description="Too many failed attempts from this address or for this email."),
        },
        auth=[],
    )
    def post(self, request):
        credentials = TokenObtainSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        email = credentials.validated_data["email"].strip().lower()
        ip = services.client_ip(request)
        if login_throttle.is_locked(ip, email):
            raise Throttled(detail="Too many failed sign-in attempts. Wait a few minutes, or reset your password.")
        user = authenticate(request._request, username=email, password=credentials.validated_data["password"])
        if user is None:
            login_throttle.record_failure(ip, email)
            raise ValidationError({"non_field_errors": ["Unable to sign in with that email and password."]})
        login_throttle.clear(ip, email)
        row, token = api_token_issue(user=user)
        return Response(TokenSerializer({"token": token, "expiry": row.expiry}).data)
