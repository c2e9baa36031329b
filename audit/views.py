from django.http import Http404
from django.shortcuts import render

from audit.models import AccessLogEntry
from tenants.models import Membership


def portal_access_log(request):
    """The client's portal page: who at the provider looked at which of its data. Client admins."""
    membership = Membership.objects.filter(user=request.user, company=request.tenant).first()
    if membership is None or membership.role != Membership.Role.CLIENT_ADMIN:
        raise Http404
    entries = AccessLogEntry.objects.select_related("user").exclude(user__provider_role="").order_by("-at")[:200]
    return render(request, "audit/portal_access_log.html", {"company": request.tenant, "entries": entries})
