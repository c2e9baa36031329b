from django.apps import AppConfig


class AnsweringConfig(AppConfig):
    name = "answering"
    verbose_name = "Answering desk"

    def ready(self):
        from answering import messages  # noqa: F401 - registers the escalation timer handler
