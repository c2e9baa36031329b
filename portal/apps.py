from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client company's portal shell: layout, navigation, sign-in, language. No models; each
    screen lives in the app that owns its data (`<app>/portal/`)."""

    name = "portal"
    default_auto_field = "django.db.models.BigAutoField"
