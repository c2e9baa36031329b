"""The OpenAPI schema of the gated API: each operation says which scope it needs, and documents
the refusals the base view can give (so clients, and schemathesis, know every answer to expect)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from api.tokens.scopes import scope_required


class ApiErrorSerializer(serializers.Serializer):
    """A refusal or an application error (`tenants.errors.ApplicationError`)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    field = serializers.CharField(required=False)


# A serializer's 400 names each field with its errors; an application error has detail/code/field.
VALIDATION_BODY = {"type": "object", "additionalProperties": {}}
REFUSALS = {
    "401": "No session and no bearer token, or an invalid, expired or revoked token (on another company's "
    "host, every token is invalid).",
    "403": "The token lacks the scope, or the person's role does not allow this.",
    "404": "Not found in this company, or the person is not one of its client users.",
    "429": "Rate limit reached; retry after the number of seconds in Retry-After.",
    "503": "The service cannot reach its database (an outage): `code` is `unavailable`; retry after the number "
    "of seconds in Retry-After.",
}


class TenantAutoSchema(AutoSchema):
    def _gated(self) -> bool:
        from api.base import TenantAPIView

        return isinstance(self.view, TenantAPIView)

    def get_description(self) -> str:
        description = super().get_description() or ""
        if not self._gated():
            return description
        scope = getattr(self.view, "api_scope", None)
        if scope is None:
            note = "Session only: no API token may call this."
        else:
            note = f"Required scope: `{scope_required(resource=scope, method=self.method)}`."
        return f"{description}\n\n{note}".strip()

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        if direction != "response" or not self._gated():
            return bodies
        # Bad query parameters (pagination, filters) are a 400 on any method, bad bodies on writes.
        bodies.setdefault(
            "400",
            {
                "content": {"application/json": {"schema": VALIDATION_BODY}},
                "description": "Bad input: the body names each field and its rule.",
            },
        )
        for code, description in REFUSALS.items():
            if code in bodies:
                continue
            response = self._get_response_for_code(ApiErrorSerializer, code)
            response["description"] = description
            if code in ("429", "503"):
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "Seconds to wait."}
                }
            bodies[code] = response
        if self.method in ("POST", "PUT", "PATCH") and "415" not in bodies:
            response = self._get_response_for_code(ApiErrorSerializer, "415")
            response["description"] = "The body's media type is not one this operation accepts (send JSON)."
            bodies["415"] = response
        return bodies
