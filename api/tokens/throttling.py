"""Rate limits for the REST API: one bucket per token, and one per person for session use.

The counters live in the `throttle` cache, which every web process shares (the database, or
Redis when CACHE_URL names it; see config/settings.py), so the limit holds across processes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from api.tokens.models import ApiToken


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    @property
    def cache(self):
        return caches["throttle"]

    def get_rate(self):
        # Read on each request rather than once at import, so the setting is what is in force.
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # refused by authentication anyway
        return f"throttle:{self.scope}:{ident}"
