from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from auditlog.registry import auditlog

        from billing.models import Plan, Statement, StatementLine

        # A plan's terms and every statement (drafted, issued, corrected) are in the change log.
        for model in (Plan, Statement, StatementLine):
            if not auditlog.contains(model):
                auditlog.register(model)
