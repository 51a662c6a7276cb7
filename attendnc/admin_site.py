from django.contrib.admin import AdminSite


class SuperuserAdminSite(AdminSite):
    """The Django admin crosses districts, so only superusers (platform operators) may use it;
    district admins work in the app, where every page is scoped to their district."""

    site_header = "AttendNC platform administration"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser
