"""API scopes: `<resource>:read` for safe methods, `<resource>:write` for the rest.

The resources are the `api_scope` values of the API views. A session (the portal's own pages)
has every scope of the person's role; a token has the scopes chosen when it was issued, narrowed
to what the role still allows on each request.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gates.engine import Role

RESOURCES = (
    "lines",
    "messages",
    "calls",
    "voicemail",
    "appointments",
    "contacts",
    "agreement",
    "access_log",
    "data_requests",
    "analytics",
    "billing",
    "team",
    "webhooks",
    "tokens",
)
RESOURCE_LABELS = {
    "lines": _("Answering lines"),
    "messages": _("Messages"),
    "calls": _("Calls"),
    "voicemail": _("Voicemail"),
    "appointments": _("Appointments"),
    "contacts": _("Contacts"),
    "agreement": _("Agreement"),
    "access_log": _("Access log"),
    "data_requests": _("Data requests"),
    "analytics": _("Analytics"),
    "billing": _("Usage & billing"),
    "team": _("Team"),
    "webhooks": _("Webhooks"),
    "tokens": _("API tokens"),
}
ACTIONS = ("read", "write")
ALL_SCOPES = tuple(f"{resource}:{action}" for resource in RESOURCES for action in ACTIONS)
# What a client member may never hold: the screens and endpoints that are for client admins.
ADMIN_ONLY_RESOURCES = frozenset({"access_log", "billing", "data_requests", "team", "webhooks"})
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def scopes_for_role(role: str) -> frozenset[str]:
    """Every scope a person in this role of a client company may hold."""
    if role == Role.CLIENT_ADMIN:
        return frozenset(ALL_SCOPES)
    if role == Role.CLIENT_MEMBER:
        return frozenset(s for s in ALL_SCOPES if s.split(":")[0] not in ADMIN_ONLY_RESOURCES)
    return frozenset()


def scope_required(*, resource: str, method: str) -> str:
    return f"{resource}:{'read' if method.upper() in SAFE_METHODS else 'write'}"
