from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world (`seed_demo`, `run_demo`, `totp_code`): it spans every app, so it sits above them all."""

    name = "demo"
    verbose_name = "Demo world"
