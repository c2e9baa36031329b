"""The portal's audit page: a client admin asks for an evidence pack and downloads it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.evidence import evidence_pack_produce, evidence_pack_read
from audit.models import AccessLogEntry, EvidencePack
from gates.portal import client_admin_page


@client_admin_page
@require_http_methods(["GET", "POST"])
def audit_evidence(request):
    if request.method == "POST":
        pack = evidence_pack_produce(actor=request.user)
        messages.success(request, _("Evidence pack #%(id)s is ready to download.") % {"id": pack.pk})
        return redirect("portal-audits")
    packs = EvidencePack.objects.select_related("requested_by")[:50]
    return render(request, "audit/portal/evidence.html", {"packs": packs})


@client_admin_page
@require_POST
def audit_evidence_download(request, pk: int):
    pack = EvidencePack.objects.filter(pk=pk).first()
    if pack is None:
        raise Http404
    content = evidence_pack_read(
        pack=pack, actor=request.user, channel=AccessLogEntry.Channel.PORTAL, path=request.path
    )
    response = HttpResponse(content, content_type="application/zip")
    stamp = pack.requested_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-evidence-{request.tenant.schema_name}-{stamp}.zip"'
    return response
