from django.http import Http404
from django.shortcuts import render

from audit.models import AccessLogEntry
from tenants.gates.engine import Role, role_for_request


def portal_access_log(request):
    """The client's portal page: who at the provider looked at which of its data. Client admins."""
    if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
        raise Http404
    entries = AccessLogEntry.objects.select_related("user").exclude(user__provider_role="").order_by("-at")[:200]
    return render(request, "audit/portal_access_log.html", {"company": request.tenant, "entries": entries})
