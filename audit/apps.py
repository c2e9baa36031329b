from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit and retention"

    def ready(self):
        from auditlog.registry import auditlog

        from audit import receivers  # noqa: F401 - connects the access log and the chain
        from audit.subprocessors import subprocessor_usage
        from compliance.agreements.subprocessors import usage_source_register

        # The DPO's workspace and the RoPA count each company's sends here, above them.
        usage_source_register(source=subprocessor_usage)
        from audit.models import EvidencePack, LegalHold, RetentionRun
        from tenants.categories import derived_fields, personal_fields, registry

        # Every model that holds personal data is in the change log, its personal fields masked
        # so the log never holds their values.
        # A purge writes one change-log entry per run (its RetentionRun), never one per row; producing
        # an evidence pack is a change-log entry too.
        for model in (RetentionRun, LegalHold, EvidencePack):
            if not auditlog.contains(model):
                auditlog.register(model)
        for model in {entry.model for entry in registry()}:
            if not auditlog.contains(model):
                # Derived columns (blind indexes, pseudonyms) are left out: they follow the fields
                # they derive from, and the gates never load them for a person.
                auditlog.register(
                    model,
                    mask_fields=sorted(personal_fields(model)),
                    exclude_fields=sorted(derived_fields(model)),
                    mask_callable="audit.masking.mask_value",
                )
