from django.apps import AppConfig


class TimersConfig(AppConfig):
    name = "operations.timers"
    label = "timers"
    verbose_name = "Timers"
