from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    label = "desk"
    verbose_name = "Live desk"

    def ready(self):
        from desk import receivers  # noqa: F401  (signing out is going offline)
