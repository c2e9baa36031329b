from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class StaffConfig(AppConfig):
    """The provider's admin shell: the admin site, the company switcher, the index and Help. Listed
    before the admin itself, so its templates override the admin's own."""

    name = "staff"
    verbose_name = "Provider admin"


class VastajaAdminConfig(AdminConfig):
    default_site = "staff.site.VastajaAdminSite"
