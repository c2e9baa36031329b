from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "operations.backups"
    label = "backups"
    verbose_name = "Backups and the erasure log"
