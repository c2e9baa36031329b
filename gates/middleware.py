"""Gate 1 on every request to a client company's host."""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseForbidden, HttpResponseServerError, JsonResponse
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name

from gates.context import GateContextMissing, cleared
from gates.engine import Role, role_for_request
from gates.signals import access_refused
from tenants.models import ClientCompany

# Anonymous visitors may reach these on a tenant host; every other path needs a signed-in member.
# `/accounts/` holds sign-in, sign-out and password reset only (a page there that needs a signed-in
# user must say so itself); `/i18n/` is the language switch. The calendar feed's secret token, and
# the telephony provider's signature, are their credentials.
logger = logging.getLogger("vastaja.security")

ANONYMOUS_PATHS = ("/accounts/", "/i18n/", "/static/", "/calendar/", "/telephony/")
# The telephony provider's callbacks, every one of them signed (answering/telephony_views.py): the
# signature is their only credential, so a browser's session, its messages, its language and the
# audit actor mean nothing there (and their views are csrf_exempt). By path, so an endpoint added
# under it (the transfer callbacks, say) is covered too.
SIGNED_WEBHOOK_PATHS = ("/telephony/",)


def signed_webhook(request) -> bool:
    """A request to a signed telephony callback on a client company's host (known only after the
    host lookup: on the provider's host, or before it, every middleware runs)."""
    company = getattr(request, "tenant", None)
    return (
        company is not None
        and company.schema_name != get_public_schema_name()
        and request.path_info.startswith(SIGNED_WEBHOOK_PATHS)
    )


def skipped_on_signed_webhooks(dotted_path: str, *, on_skip=None) -> type:
    """The middleware at `dotted_path`, except on a signed webhook, where the request goes straight
    on (after `on_skip(request)`) and none of its hooks run. Everything else gets it unchanged."""
    middleware_class = import_string(dotted_path)

    # A subclass, so that Django's system checks (the admin's) still find what they need.
    class Skipped(middleware_class):
        def __call__(self, request):
            if signed_webhook(request):
                if on_skip is not None:
                    on_skip(request)
                return self.get_response(request)
            return super().__call__(request)

    for hook in ("process_view", "process_exception", "process_template_response"):
        if hasattr(middleware_class, hook):
            setattr(Skipped, hook, _unless_signed_webhook(getattr(middleware_class, hook)))
    Skipped.__name__ = Skipped.__qualname__ = f"{middleware_class.__name__}SkippedOnSignedWebhooks"
    Skipped.__doc__ = f"{dotted_path}, skipped on a signed telephony webhook."
    return Skipped


def _unless_signed_webhook(method):
    @functools.wraps(method)
    def hook(self, request, *args, **kwargs):
        return None if signed_webhook(request) else method(self, request, *args, **kwargs)

    return hook


def _anonymous(request) -> None:
    # No session is read, so nobody is signed in: whatever cookie came with it, the view and the
    # gates below see an anonymous caller.
    request.user = AnonymousUser()


# settings.MIDDLEWARE names these in the places of the middleware they wrap.
SessionMiddleware = skipped_on_signed_webhooks("django.contrib.sessions.middleware.SessionMiddleware")
LocaleMiddleware = skipped_on_signed_webhooks("django.middleware.locale.LocaleMiddleware")
AuthenticationMiddleware = skipped_on_signed_webhooks(
    "django.contrib.auth.middleware.AuthenticationMiddleware", on_skip=_anonymous
)
OTPMiddleware = skipped_on_signed_webhooks("django_otp.middleware.OTPMiddleware")
MessageMiddleware = skipped_on_signed_webhooks("django.contrib.messages.middleware.MessageMiddleware")
AuditlogMiddleware = skipped_on_signed_webhooks("auditlog.middleware.AuditlogMiddleware")


class GateContextMiddleware:
    """First in the chain: a request starts with no gate context, whatever the thread held before
    (a test's own, a previous request's), and gets back what it found when it ends. A view reads
    tenant data only through a channel base, which enters the person's context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with cleared("request"):
            return self.get_response(request)

    def process_exception(self, request, exception):
        """A view that read tenant data outside the gate layer is a bug, and loud in the log; the
        person sees a plain error page that shows nothing of the data or the code."""
        if not isinstance(exception, GateContextMissing):
            return None
        logger.error("tenant data read outside the gate layer: %s %s", request.method, request.path, exc_info=exception)
        message = "This page cannot be shown. The error has been logged."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "gate_context_missing"}, status=500)
        return HttpResponseServerError(f"<h1>Error</h1><p>{message}</p>", content_type="text/html")


class TenantGateMiddleware:
    """Runs after authentication. A suspended company answers 403 "suspended" to everyone; a
    signed-in person who is not one of the company's client users gets a 404 (provider staff
    included: they work in the admin, behind the DPA's field gate)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        company = getattr(request, "tenant", None)
        if company is None or company.schema_name == get_public_schema_name():
            return self.get_response(request)
        if not company.is_client or company.status == ClientCompany.Status.OFFBOARDED:
            return not_found(request)
        if company.status == ClientCompany.Status.SUSPENDED:
            return suspended(request)
        if request.user.is_authenticated:
            if role_for_request(request, company) not in Role.CLIENT:
                _log_cross_tenant_attempt(request, company)
                return not_found(request)
        elif not request.path.startswith(ANONYMOUS_PATHS) and not request.path.startswith("/api/"):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def _log_cross_tenant_attempt(request, company) -> None:
    """Someone signed in, but not one of this company's client users, asked for one of its pages:
    the company's access log records the refusal (with who and which path), and so does the log."""
    channel = "api" if request.path.startswith("/api/") else "portal"
    access_refused.send(
        sender=ClientCompany,
        user=request.user,
        channel=channel,
        model=ClientCompany,
        object_ids=[str(company.pk)],
        fields=[],
        path=request.path,
    )
    logger.warning("cross-tenant request refused: user %s on %s %s", request.user.pk, company.schema_name, request.path)


def not_found(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    # The very page django-tenants serves an unknown host, resolved from the same setting (a gate
    # does not import views): nothing to tell the two apart.
    return import_string(settings.DEFAULT_NOT_FOUND_TENANT_VIEW)(request)


def suspended(request):
    message = "This client company's service is suspended."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "suspended"}, status=403)
    return HttpResponseForbidden(f"<h1>Suspended</h1><p>{message}</p>", content_type="text/html")
