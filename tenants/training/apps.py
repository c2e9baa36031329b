from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "tenants.training"
    label = "training"
    verbose_name = "Staff confidentiality and training"

    def ready(self):
        from auditlog.registry import auditlog

        from tenants.training import models

        # Who recorded a commitment or a completion, and every correction, is in the change log.
        for model in (models.Course, models.ConfidentialityCommitment, models.TrainingRecord):
            auditlog.register(model)
