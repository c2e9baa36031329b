from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "api.tokens"
    label = "tokens"
    verbose_name = "API tokens"

    def ready(self):
        from auditlog.registry import auditlog

        from api.tokens import authentication  # noqa: F401 - registers the OpenAPI security scheme
        from api.tokens.models import ApiToken

        # Issuing and revoking a token is in the change log with its actor; the hash never is.
        auditlog.register(ApiToken, exclude_fields=["token_hash"])
