"""The gated DRF base view. Every API view of a client company's host derives from it.

Following PostHog's TeamAndOrgViewSetMixin, a subclass may not override the methods through which
the gates act (`get_queryset`, `get_object`, `get_permissions`, `initial`, authentication and
throttling): it narrows its data in `safely_get_queryset` and the base applies the gates around it.

Each view names its resource in `api_scope`; a request needs `<api_scope>:read` for a safe method
and `<api_scope>:write` for any other. A token has the scopes it was issued with (narrowed to its
person's role on every request); a session has every scope of the person's role. A view without
`api_scope` is refused to every token.

A view whose serializer would send a derived column (a blind index, a pseudonym: see
`tenants.categories.derived`), by name, by `source=`, through a nested serializer, or with
`fields = "__all__"` or `exclude`, is refused at import: those columns never leave the database.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.http import Http404
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from api.tokens.authentication import BearerTokenAuthentication
from api.tokens.models import ApiToken
from api.tokens.scopes import RESOURCES, scope_required, scopes_for_role
from api.tokens.throttling import ApiRateThrottle
from gates.context import person_context
from gates.engine import Role, policy_for_request, role_for_request
from gates.signals import report_refused
from tenants.categories import derived_fields

PROTECTED_METHODS = (
    "get_queryset",
    "get_object",
    "get_permissions",
    "initial",
    "check_permissions",
    "finalize_response",
    "get_authenticators",
    "perform_authentication",
    "get_throttles",
    "check_throttles",
)
# Class attributes through which a subclass could swap out a gate: refused like the methods above.
PROTECTED_ATTRIBUTES = ("authentication_classes", "throttle_classes")


def serializer_derived_fields(serializer_class) -> list[str]:
    """The derived columns (`Model.field`) a serializer class would send, nested ones included."""
    if isinstance(serializer_class, serializers.ListSerializer):
        serializer_class = type(serializer_class.child)
    elif isinstance(serializer_class, serializers.BaseSerializer):
        serializer_class = type(serializer_class)
    meta = getattr(serializer_class, "Meta", None)
    model = getattr(meta, "model", None)
    found = []
    if model is not None:
        derived = derived_fields(model)
        fields, exclude = getattr(meta, "fields", None), getattr(meta, "exclude", None)
        if fields == serializers.ALL_FIELDS:
            named = derived
        elif exclude is not None:
            named = derived - set(exclude)
        else:
            named = derived & set(fields or ())
        found += [f"{model.__name__}.{name}" for name in sorted(named)]
    for name, field in getattr(serializer_class, "_declared_fields", {}).items():
        if isinstance(field, serializers.BaseSerializer):
            found += serializer_derived_fields(field)
        elif model is not None and field.source != "*":
            found += _source_derived(model, field.source or name)
    return found


def _source_derived(model, source: str) -> list[str]:
    current = model
    for part in source.split("."):
        if part in derived_fields(current):
            return [f"{current.__name__}.{part}"]
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return []  # a method or property: not a column
        if not field.is_relation or field.related_model is None:
            return []
        current = field.related_model
    return []


class TenantAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    throttle_classes = [ApiRateThrottle]
    api_scope: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in PROTECTED_METHODS:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(), which would let it skip a gate; "
                    "narrow the data in safely_get_queryset() instead"
                )
        for name in PROTECTED_ATTRIBUTES:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} sets {name}, which would let it skip authentication or rate limits")
        if cls.api_scope is not None and cls.api_scope not in RESOURCES:
            raise TypeError(f"{cls.__name__}.api_scope {cls.api_scope!r} is not one of {', '.join(RESOURCES)}")
        serializer = cls.__dict__.get("serializer_class")
        leaks = sorted(set(serializer_derived_fields(serializer))) if serializer is not None else []
        if leaks:
            raise TypeError(
                f"{cls.__name__}.serializer_class would send {', '.join(leaks)}: derived columns never leave the "
                "database; list the fields it may send"
            )

    def get_authenticators(self):
        return [BearerTokenAuthentication(), SessionAuthentication()]

    def get_throttles(self):
        return [ApiRateThrottle()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        company = getattr(request, "tenant", None)
        if company is None or connection.schema_name != company.schema_name:
            raise Http404
        role = role_for_request(request, company)
        if role not in Role.CLIENT:
            raise Http404
        self.check_scope(request, role)
        # The person's gate context, until finalize_response has logged what the response shows.
        self._gate_context = person_context(
            user=request.user,
            company=company,
            policy=policy_for_request(request, company),
            channel="api",
            path=request.path,
        )
        self._gate_context.__enter__()
        empty = sorted({name for name, values in request.query_params.lists() if "" in values})
        if empty:  # `?status=` is neither a filter nor its absence: say so rather than guess
            raise ValidationError(
                {name: ["This parameter is empty: give it a value, or leave it out."] for name in empty}
            )

    def granted_scopes(self, request, role: str) -> frozenset[str]:
        """What this request may do: a token's own scopes within its person's role (which may
        have shrunk since it was issued); a session, everything the role allows."""
        allowed = scopes_for_role(role)
        if isinstance(request.auth, ApiToken):
            return allowed & frozenset(request.auth.scopes)
        return allowed

    def check_scope(self, request, role: str) -> None:
        token = isinstance(request.auth, ApiToken)
        if self.api_scope is None:
            if token:
                raise PermissionDenied("this endpoint cannot be used with an API token")
            return
        needed = scope_required(resource=self.api_scope, method=request.method)
        if needed not in self.granted_scopes(request, role):
            if token:
                raise PermissionDenied(f"this token lacks the scope {needed}")
            raise PermissionDenied(f"your role does not allow {needed}")

    def get_queryset(self):
        return self.safely_get_queryset()

    def finalize_response(self, request, response, *args, **kwargs):
        """A refused object is in the access log (the layer logs every read the response made)."""
        context = self.__dict__.pop("_gate_context", None)
        try:
            return self._logged(request, super().finalize_response(request, response, *args, **kwargs), kwargs)
        finally:
            if context is not None:
                context.__exit__(None, None, None)

    def _logged(self, request, response, kwargs):
        try:
            model = self.safely_get_queryset().model
        except Exception:  # a view without data (or a request that never got in) reads nothing
            return response
        if response.status_code == 404 and "pk" in kwargs:
            report_refused(user=request.user, channel="api", model=model, object_id=kwargs["pk"], path=request.path)
        return response

    def safely_get_queryset(self):
        raise TypeError(f"{self.__class__.__name__} must define safely_get_queryset()")

    def require_client_admin(self, request) -> None:
        if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
            raise PermissionDenied("only a client admin of this company may do this")
