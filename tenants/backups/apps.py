from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "tenants.backups"
    label = "backups"
    verbose_name = "Backups and the erasure log"
