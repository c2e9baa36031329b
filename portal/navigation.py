"""The portal's navigation. Each screen is listed once here, by URL name; a screen whose URL is not
registered yet is simply left out, and admin-only screens are shown to client admins only."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from gates.portal import is_client_admin

SCREENS = [
    # (url name, label, client admins only)
    ("portal-home", _("Today"), False),
    ("portal-messages", _("Messages"), False),
    ("portal-calls", _("Calls"), False),
    ("portal-voicemail", _("Voicemail"), False),
    ("portal-appointments", _("Appointments"), False),
    ("portal-contacts", _("Contacts"), False),
    ("portal-agreement", _("Agreement"), False),
    ("portal-access-log", _("Access log"), True),
    ("portal-data-requests", _("Data requests"), False),
    ("portal-analytics", _("Analytics"), False),
    ("portal-team", _("Team"), True),
    ("portal-audits", _("Audits"), True),
    ("portal-api-tokens", _("API tokens"), False),
    ("portal-security", _("Security"), True),
    ("portal-help", _("Help"), False),
]


def portal_navigation(request):
    """Context processor: the screens this person may open, with the current one marked."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or not getattr(tenant, "is_client", False) or not (user and user.is_authenticated):
        return {}
    admin = is_client_admin(request)
    items = []
    for name, label, admin_only in SCREENS:
        if admin_only and not admin:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return {"portal_nav": items}
