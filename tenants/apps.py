from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client companies and people"

    def ready(self):
        from auditlog.registry import auditlog

        from tenants.models import ClientCompany, Membership

        # Team changes (invitations, roles, removals) are in the change log, with who made them;
        # so is a company's lifecycle (onboarded, suspended, resumed, offboarded), in the public one.
        for model in (Membership, ClientCompany):
            if not auditlog.contains(model):
                auditlog.register(model)
