"""What people get while the database cannot be reached: a 503, never a 500 or a traceback.

Pages answer a plain page in the person's language (the language cookie, else the browser's
`Accept-Language`: the session that would know better is in the database). Everything under
`/api/` answers JSON, `{"detail": ..., "code": "unavailable"}`. Both carry `Retry-After`.

`DatabaseOutageMiddleware` sits before django-tenants' host lookup, which is the first thing that
needs the database. A connection that cannot be opened is answered at once. The database can also
go away later in the request, in a view or in a middleware below this one. A view's error comes
to `process_exception`. A middleware's error has already been turned into a 500 response by
Django's own wrapper round that middleware. Django sends `got_request_exception` while it does
that, so a receiver notes the error on the request, and the outer middleware swaps the 500 for
the 503.

Nothing needs resetting when the database returns. Django drops a connection that failed when
the request ends, and the next request opens a new one.
"""

from __future__ import annotations

import logging
import sys

import psycopg
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connection
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# psycopg's own classes too: closing a server-side cursor (a queryset's `iterator()`, as a form's
# choices are read) talks to the server outside Django's error wrapper, so a connection lost there
# raises psycopg's OperationalError, not Django's.
DATABASE_DOWN = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
RETRY_AFTER_SECONDS = 30
_NOTED = "_vastaja_database_down"


def database_down_error(exc: BaseException | None) -> BaseException | None:
    """The database error behind `exc`, if it is one or was raised while handling one."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_DOWN):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def unavailable_response(request, exc: BaseException) -> HttpResponse:
    """The 503 for this request: JSON under /api/, else a plain page, in the person's language."""
    logger.warning("database unavailable: %s %s answered 503 (%s)", request.method, request.path, type(exc).__name__)
    language = translation.get_language_from_request(request)
    with translation.override(language):
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"detail": _("The service is temporarily unavailable. Try again shortly."), "code": "unavailable"},
                status=503,
            )
        else:
            html = render_to_string(
                "monitoring/unavailable.html",
                {"language": language, "changed": request.method not in ("GET", "HEAD", "OPTIONS")},
            )
            response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


@receiver(got_request_exception, dispatch_uid="monitoring.outage.note")
def _note_database_down(sender, request=None, **kwargs):
    """Django is turning an exception below DatabaseOutageMiddleware into a 500: note it if the
    database was behind it (this runs inside Django's `except`, so the exception is current)."""
    error = database_down_error(sys.exc_info()[1])
    if request is not None and error is not None:
        setattr(request, _NOTED, error)


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            connection.ensure_connection()  # the connection the host lookup would open anyway
        except DATABASE_DOWN as exc:
            return unavailable_response(request, exc)
        response = self.get_response(request)
        error = getattr(request, _NOTED, None)
        if error is not None and response.status_code >= 500:
            return unavailable_response(request, error)
        return response

    def process_exception(self, request, exception):
        error = database_down_error(exception)
        return unavailable_response(request, error) if error is not None else None
