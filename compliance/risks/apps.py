from django.apps import AppConfig


class RisksConfig(AppConfig):
    name = "compliance.risks"
    label = "risks"
    verbose_name = "Risk register"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.agreements.selectors import dpia_source_register
        from compliance.risks import models
        from compliance.risks.selectors import dpia_missing

        # Approving or activating a DPA that grants a special category asks which ones no DPIA
        # covers; the agreements sit below us and cannot import us, so we tell them.
        dpia_source_register(source=dpia_missing)

        # A DPIA linked to a DPA version (or unlinked) is part of the approval's trail.
        auditlog.register(models.RiskAssessment, m2m_fields={"dpa_versions"})
        auditlog.register(models.Risk)
        auditlog.register(models.SubProcessorDiligence)
