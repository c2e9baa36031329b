from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client companies and people"

    def ready(self):
        from auditlog.registry import auditlog

        from tenants.models import Membership

        # Team changes (invitations, roles, removals) are in the change log, with who made them.
        if not auditlog.contains(Membership):
            auditlog.register(Membership)
