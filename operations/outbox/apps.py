from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "operations.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self):
        from operations.outbox import receivers  # noqa: F401  Celery signals: a task's success settles its row
