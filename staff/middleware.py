"""The provider's admin shows a company's times in that company's zone."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from gates.selection import selected_company
from tenants.timezones import company_zone_of


class AdminCompanyZoneMiddleware:
    """On the provider's host, a member of staff sees times in the zone of the company chosen with
    **switch** (UTC while none is chosen); the admin's header names the zone. The whole response
    runs in it, so the admin's template responses, rendered after their view returns, are too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name != get_public_schema_name():
            return self.get_response(request)
        user = getattr(request, "user", None)
        staff = user is not None and user.is_authenticated and getattr(user, "is_provider_staff", False)
        with timezone.override(company_zone_of(selected_company(request) if staff else None)):
            return self.get_response(request)
