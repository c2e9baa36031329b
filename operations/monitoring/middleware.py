"""`/health/` on the provider's host, answered before anything else runs.

It sits first in MIDDLEWARE, ahead of django-tenants' host lookup, sessions and authentication:
those need the database, and a health check must still answer (503, naming the database) when
the database is down. It needs no sign-in: load balancers and uptime checks call it, and it
carries no personal data and no client company's name.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse
from django.http.request import split_domain_port

from operations.monitoring.health import HEALTH_PATH, health_report


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH and self._on_provider_host(request):
            report = health_report()
            response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)

    @staticmethod
    def _on_provider_host(request) -> bool:
        try:
            host, _port = split_domain_port(request.get_host())
        except DisallowedHost:
            return False  # let the normal stack refuse it
        return host == settings.PUBLIC_HOST
