from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "compliance.training"
    label = "training"
    verbose_name = "Staff confidentiality and training"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.training import models

        # Who recorded a commitment or a completion, and every correction, is in the change log.
        for model in (models.Course, models.ConfidentialityCommitment, models.TrainingRecord):
            auditlog.register(model)
