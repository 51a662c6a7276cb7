from django.urls import path

from . import views

app_name = "districts"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/grants/<int:grant_id>/remove/", views.role_grant_remove, name="role_grant_remove"),
    path("people/<int:membership_id>/resend/", views.welcome_resend, name="welcome_resend"),
    path("people/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("people/invitations/<int:invitation_id>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("people/security/", views.security, name="security"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/audit.csv", views.audit_log_csv, name="audit_log_csv"),
]
