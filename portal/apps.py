from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client company's portal shell: layout, navigation, sign-in (with the optional one-time
    code and password reset), language. Its one model is a company's sign-in rules; each screen
    lives in the app that owns its data (`<app>/portal/`)."""

    name = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from auditlog.registry import auditlog
        from django.contrib.auth.signals import user_logged_in

        from portal.middleware import session_bind
        from portal.models import CompanySecurity

        user_logged_in.connect(session_bind, dispatch_uid="portal.session_bind")
        if not auditlog.contains(CompanySecurity):
            auditlog.register(CompanySecurity)
