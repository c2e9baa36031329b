"""Every time a person sees is in the client company's own zone, not the server's, and labelled
with it (STYLE.md, "Time"). Times are stored in UTC."""

from __future__ import annotations

import zoneinfo
from functools import wraps

from django.utils import timezone


def company_zone_of(company) -> zoneinfo.ZoneInfo:
    """The zone a company's times are shown in (UTC for the provider's own public schema)."""
    return zoneinfo.ZoneInfo(getattr(company, "time_zone", "") or "UTC")


def in_company_zone(view):
    """Render the view's times (|date, |time, localtime) in the host company's zone; the zone is
    restored afterwards, so nothing carries over to the thread's next request."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with timezone.override(company_zone_of(request.tenant)):
            return view(request, *args, **kwargs)

    return wrapped


class CompanyZoneMiddleware:
    """On a client company's host, the whole request runs in the company's zone: the portal's pages
    (rendered after their view returns, too), and the API, whose times carry the company's offset
    (2026-12-01T09:00:00+02:00) rather than UTC's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        company = getattr(request, "tenant", None)
        if company is None or not getattr(company, "is_client", False):
            return self.get_response(request)
        with timezone.override(company_zone_of(company)):
            return self.get_response(request)
