"""The gated DRF base view. Every API view of a client company's host derives from it.

Following PostHog's TeamAndOrgViewSetMixin, a subclass may not override the methods through which
the gates act (`get_queryset`, `get_object`, `get_permissions`, `initial`): it narrows its data in
`safely_get_queryset` and the base applies the gates around it.
"""

from __future__ import annotations

from django.db import connection
from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from tenants.gates.engine import Role, role_for_request
from tenants.gates.signals import report_read, report_refused

PROTECTED_METHODS = (
    "get_queryset",
    "get_object",
    "get_permissions",
    "initial",
    "check_permissions",
    "finalize_response",
)


class TenantAPIView(GenericAPIView):
    permission_classes = [IsAuthenticated]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in PROTECTED_METHODS:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(), which would let it skip a gate; "
                    "narrow the data in safely_get_queryset() instead"
                )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        company = getattr(request, "tenant", None)
        if company is None or connection.schema_name != company.schema_name:
            raise Http404
        if role_for_request(request, company) not in Role.CLIENT:
            raise Http404

    def get_queryset(self):
        return self.safely_get_queryset()

    def finalize_response(self, request, response, *args, **kwargs):
        """Every API response that shows personal fields, or refuses an object, is in the access log."""
        response = super().finalize_response(request, response, *args, **kwargs)
        try:
            model = self.safely_get_queryset().model
        except Exception:  # a view without data (or a request that never got in) reads nothing
            return response
        if response.status_code == 404 and "pk" in kwargs:
            report_refused(user=request.user, channel="api", model=model, object_id=kwargs["pk"], path=request.path)
        elif response.status_code < 300 and isinstance(getattr(response, "data", None), dict | list):
            data = response.data
            rows = data.get("results", [data]) if isinstance(data, dict) else data
            rows = [row for row in rows if isinstance(row, dict) and "id" in row]
            if rows:
                report_read(user=request.user, channel="api", model=model, object_ids=[row["id"] for row in rows],
                            fields=set().union(*(row.keys() for row in rows)), path=request.path)  # fmt: skip
        return response

    def safely_get_queryset(self):
        raise TypeError(f"{self.__class__.__name__} must define safely_get_queryset()")

    def require_client_admin(self, request) -> None:
        if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
            raise PermissionDenied("only a client admin of this company may do this")
