from django.contrib.admin.apps import AdminConfig


class SuperuserAdminConfig(AdminConfig):
    default_site = "attendnc.admin_site.SuperuserAdminSite"
