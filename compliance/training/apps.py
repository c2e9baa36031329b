from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "compliance.training"
    label = "training"
    verbose_name = "Staff confidentiality and training"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.training import models
        from compliance.training.selectors import training_gaps
        from gates.engine import policy_source_register

        # The field gate asks whether a person's commitment and training are in order.
        policy_source_register(name="training_gaps", source=training_gaps)

        # Who recorded a commitment or a completion, and every correction, is in the change log.
        for model in (models.Course, models.ConfidentialityCommitment, models.TrainingRecord):
            auditlog.register(model)
