"""Portal pages show times in the client company's own zone, not the server's."""

from __future__ import annotations

import zoneinfo
from functools import wraps

from django.utils import timezone


def in_company_zone(view):
    """Render the view's times (|date, |time, localtime) in the host company's zone; the zone is
    restored afterwards, so nothing carries over to the thread's next request."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with timezone.override(zoneinfo.ZoneInfo(getattr(request.tenant, "time_zone", "") or "UTC")):
            return view(request, *args, **kwargs)

    return wrapped
