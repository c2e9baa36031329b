from django.apps import AppConfig


class TimersConfig(AppConfig):
    name = "tenants.timers"
    label = "timers"
    verbose_name = "Timers"
