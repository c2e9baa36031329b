from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from gates.portal import client_page
from portal.guides import guide, screenshot_response


@require_POST
def set_language(request):
    """Switch the portal's language; the choice is remembered in a cookie for a year.

    Like django.views.i18n.set_language, but it answers a bad choice with a 400 rather than
    silently keeping the old language, and only redirects within this host.
    """
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


@client_page
def help_page(request):
    """The client admin's guide (docs/client-admin-guide.md), inside the portal."""
    title, html = guide("client-admin", screenshot_base="/help/screenshots/")
    return render(request, "portal/help.html", {"title": title, "guide_html": html})


@client_page
def help_screenshot(request, name: str):
    return screenshot_response(name)
