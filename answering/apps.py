from django.apps import AppConfig


class AnsweringConfig(AppConfig):
    name = "answering"
    verbose_name = "Answering desk"

    def ready(self):
        from answering import messages  # noqa: F401 - registers the escalation timer handler
        from answering.demo import answering_demo
        from tenants.demo import DEMO_EXTENSIONS

        if answering_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(answering_demo)
