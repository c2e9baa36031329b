from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "compliance.agreements"
    label = "agreements"
    verbose_name = "Data-processing agreements"

    def ready(self):
        from auditlog.registry import auditlog

        from compliance.agreements import models
        from compliance.agreements.selectors import dpa_in_force
        from compliance.agreements.subprocessors import sub_processor_authorisation
        from gates.engine import policy_source_register
        from gates.outbound import outbound_source_register

        # The field gate asks which DPA is in force; it cannot import us, so we tell it.
        policy_source_register(name="dpa_in_force", source=dpa_in_force)
        # So does the gate before every send: may this sub-processor receive this data now?
        outbound_source_register(source=sub_processor_authorisation)

        # Every DPA decision is in the change log, with its actor.
        for model in (
            models.Agreement,
            models.AgreementVersion,
            models.CategoryGrant,
            models.RetentionRule,
            models.SubProcessor,
            models.CourseRequirement,
            models.ClientComment,
            models.SubProcessorObjection,
        ):
            auditlog.register(model)
