from django.apps import AppConfig


class RisksConfig(AppConfig):
    name = "compliance.risks"
    label = "risks"
    verbose_name = "Risk register"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.risks import models

        # A DPIA linked to a DPA version (or unlinked) is part of the approval's trail.
        auditlog.register(models.RiskAssessment, m2m_fields={"dpa_versions"})
        auditlog.register(models.Risk)
        auditlog.register(models.SubProcessorDiligence)
