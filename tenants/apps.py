from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client companies and people"


class VastajaAdminConfig(AdminConfig):
    default_site = "tenants.admin_site.VastajaAdminSite"
