from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "compliance.incidents"
    label = "incidents"
    verbose_name = "Incident register"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.incidents import models

        for model in (models.Incident, models.IncidentCompany, models.ChecklistItem, models.IncidentNotification):
            auditlog.register(model)
