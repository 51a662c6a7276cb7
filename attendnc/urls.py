from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from districts import account_views
from districts.api import TokenObtainAPI
from districts.auth_views import LoginView, ThrottledPasswordResetView
from languages.views import language_set

from . import views
from .api_docs import api_docs

admin.site.site_header = "AttendNC administration"

account_patterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("tokens/", account_views.api_tokens, name="api_tokens"),
    path("tokens/<str:token_key>/revoke/", account_views.api_token_revoke, name="api_token_revoke"),
    path("tokens/revoke-all/", account_views.api_tokens_revoke_all, name="api_tokens_revoke_all"),
    path("invitations/<str:token>/", account_views.invitation, name="invitation"),
]

# Every page of district data lives under /d/<district>/; DistrictScopeMiddleware resolves the
# district, answers 404 to non-members and runs the request inside the district's scope.
district_patterns = [
    path("", views.district_home, name="district_home"),
    path("", include("districts.urls")),
    path("", include("exports.urls")),
    path("", include("students.urls")),
    path("", include("imports.urls")),
    path("", include("tiers.urls")),
    path("", include("outreach.urls")),
    path("", include("cases.urls")),
    path("", include("pulse.urls")),
    path("", include("pulse.support_urls")),
    path("", include("pulse.review_urls")),
    path("api/", include("attendnc.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", language_set, name="language_set"),
    path("accounts/", include(account_patterns)),
    path("d/<slug:district>/", include(district_patterns)),
    # Global API routes: a token is per user, not per district; the schema describes every district.
    path("api/token/", TokenObtainAPI.as_view(), name="api_token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("admin/", admin.site.urls),
]
