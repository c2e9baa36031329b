"""The portal's audit page: a client admin asks for an evidence pack and downloads it, and sees and
downloads the signed checkpoints of the company's audit chain (audit/checkpoints.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.checkpoints import checkpoint_lines, checkpoints_of
from audit.evidence import evidence_pack_produce, evidence_pack_read
from audit.models import AccessLogEntry, EvidencePack
from audit.selectors import company_zone
from gates.portal import client_admin_page
from tenants.signing import key_fingerprint, public_key_pem


@client_admin_page
@require_http_methods(["GET", "POST"])
def audit_evidence(request):
    if request.method == "POST":
        pack = evidence_pack_produce(actor=request.user)
        messages.success(request, _("Evidence pack #%(id)s is ready to download.") % {"id": pack.pk})
        return redirect("portal-audits")
    packs = EvidencePack.objects.select_related("requested_by")[:50]
    checkpoints = checkpoints_of(request.tenant)
    context = {
        "packs": packs,
        "latest_checkpoint": checkpoints.order_by("-signed_at", "-pk").first(),
        "checkpoint_count": checkpoints.count(),
        "public_key_pem": public_key_pem(),
        "key_fingerprint": key_fingerprint(),
        "zone": company_zone().key,
    }
    return render(request, "audit/portal/evidence.html", context)


@client_admin_page
@require_GET
def audit_checkpoints_download(request):
    """Every checkpoint of this company (and only this company's), as JSON lines: the file a client
    keeps, to hand to `verify_audit --checkpoints` or check against the public key itself."""
    body = "".join(line + "\n" for line in checkpoint_lines(request.tenant))
    response = HttpResponse(body, content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoints-{request.tenant.schema_name}.jsonl"'
    return response


@client_admin_page
@require_GET
def audit_public_key_download(request):
    response = HttpResponse(public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="vastaja-audit-public-key.pem"'
    return response


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
