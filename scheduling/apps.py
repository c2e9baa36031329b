from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self):
        from scheduling import services  # noqa: F401 - registers the timer handlers
        from scheduling.demo import scheduling_demo
        from tenants.demo import DEMO_EXTENSIONS

        if scheduling_demo not in DEMO_EXTENSIONS:
            DEMO_EXTENSIONS.append(scheduling_demo)
