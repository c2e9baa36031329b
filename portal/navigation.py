"""The portal's navigation. Each screen is listed once here, by URL name; a screen whose URL is not
registered yet is simply left out, and admin-only screens are shown to client admins only.

The screens are grouped, so that fifteen of them fit beside the page at 1366 px (a column of three
short groups) and behind one **Menu** button at 390 px: the desk's daily screens first, then data
protection, then the company's own settings."""

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
    ("portal-levels", _("Service level"), False),
    ("portal-billing", _("Usage & billing"), True),
    ("portal-team", _("Team"), True),
    ("portal-audits", _("Audits"), True),
    ("portal-api-tokens", _("API tokens"), False),
    ("portal-security", _("Security"), True),
    ("portal-help", _("Help"), False),
]

GROUPS = [
    # (heading, the screens under it, by URL name); a screen in no group is in the first
    (_("Answering service"), ()),
    (_("Data protection"), ("portal-agreement", "portal-access-log", "portal-data-requests", "portal-audits")),
    (
        _("Your company"),
        (
            "portal-analytics",
            "portal-levels",
            "portal-billing",
            "portal-team",
            "portal-api-tokens",
            "portal-security",
            "portal-help",
        ),
    ),
]


def portal_navigation(request):
    """Context processor: the screens this person may open, in their groups, with the current one
    marked."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or not getattr(tenant, "is_client", False) or not (user and user.is_authenticated):
        return {}
    admin = is_client_admin(request)
    grouped = {name: index for index, (_heading, names) in enumerate(GROUPS) for name in names}
    groups = [{"heading": heading, "items": []} for heading, _names in GROUPS]
    for name, label, admin_only in SCREENS:
        if admin_only and not admin:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == url if url == "/" else request.path.startswith(url)
        groups[grouped.get(name, 0)]["items"].append({"url": url, "label": label, "current": current})
    groups = [group for group in groups if group["items"]]
    return {"portal_nav": groups} if groups else {}
