from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "operations.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from operations.monitoring import (  # noqa: F401
            receivers,  # Celery signals: the beat jobs' last runs
            sources,  # monitoring's own metrics
        )

        # Each app's `monitoring.py` registers its metrics and alert sources.
        autodiscover_modules("monitoring")
