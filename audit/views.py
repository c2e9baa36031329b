from django.http import Http404
from django.shortcuts import render

from audit.models import AccessLogEntry
from tenants.gates.engine import Role, role_for_request


def portal_access_log(request):
    """The client's portal page: who at the provider looked at which of its data. Client admins.

    `?who=team` shows the company's own people instead (their portal and API reads, and every
    voicemail they played): kept apart, because the page's question is what the provider did."""
    if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
        raise Http404
    team = request.GET.get("who") == "team"
    entries = AccessLogEntry.objects.select_related("user")
    entries = entries.filter(user__provider_role="") if team else entries.exclude(user__provider_role="")
    entries = entries.order_by("-at", "-pk")[:200]
    return render(request, "audit/portal_access_log.html", {"company": request.tenant, "entries": entries,
                                                            "team": team})  # fmt: skip
