from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client companies and people"

    def ready(self):
        from auditlog.registry import auditlog

        from tenants.models import ClientCompany, CompanyKey, Membership

        # Team changes (invitations, roles, removals) are in the change log, with who made them;
        # so is a company's lifecycle (onboarded, suspended, resumed, offboarded), in the public one.
        for model in (Membership, ClientCompany):
            if not auditlog.contains(model):
                auditlog.register(model)
        # Key creation, rotation and crypto-shredding: who, when, which versions (never the key).
        if not auditlog.contains(CompanyKey):
            auditlog.register(CompanyKey, exclude_fields=["wrapped"])
