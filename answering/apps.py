from django.apps import AppConfig


class AnsweringConfig(AppConfig):
    name = "answering"
    verbose_name = "Answering desk"

    def ready(self):
        from auditlog.registry import auditlog

        from answering.models import WebhookEndpoint
        from answering.services import escalation  # noqa: F401 - registers the escalation timer handler

        # Webhook subscriptions decide where personal data goes: in the change log, the secret masked.
        if not auditlog.contains(WebhookEndpoint):
            auditlog.register(WebhookEndpoint, mask_fields=["secret"], mask_callable="audit.masking.mask_value")
