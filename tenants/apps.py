from django.apps import AppConfig
from django.core import checks


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client companies and people"

    def ready(self):
        from auditlog.registry import auditlog

        from tenants.models import ClientCompany, CompanyKey, Membership
        from tenants.pooling import check_session_pooling

        # Tagged `database`: migrate and `check --database` probe the connection; the ASGI, WSGI and
        # worker entry points call the same probe (tenants/pooling.py) before they serve.
        checks.register(check_session_pooling, checks.Tags.database)

        # Team changes (invitations, roles, removals) are in the change log, with who made them;
        # so is a company's lifecycle (onboarded, suspended, resumed, offboarded), in the public one.
        for model in (Membership, ClientCompany):
            if not auditlog.contains(model):
                auditlog.register(model)
        # Key creation, rotation and crypto-shredding: who, when, which versions (never the key).
        if not auditlog.contains(CompanyKey):
            auditlog.register(CompanyKey, exclude_fields=["wrapped"])
