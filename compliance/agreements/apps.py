from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "compliance.agreements"
    label = "agreements"
    verbose_name = "Data-processing agreements"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.agreements import models

        # Every DPA decision is in the change log, with its actor.
        for model in (
            models.Agreement,
            models.AgreementVersion,
            models.CategoryGrant,
            models.RetentionRule,
            models.SubProcessor,
            models.CourseRequirement,
            models.ClientComment,
            models.SubProcessorObjection,
        ):
            auditlog.register(model)
