"""The DPO's view of the client companies' audit evidence packs (in the admin, /admin/dpo/evidence/).

Only the DPO may open these: the packs are for the company's admins and the DPO, not for agents,
supervisors or provider admins. And only for the companies gate 1 admits the DPO to: a pack of any
other company is neither listed nor served (404, as for a pack that does not exist)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from audit.evidence import evidence_pack_read
from audit.models import AccessLogEntry, EvidencePack
from gates.context import person_context
from gates.engine import companies_entered, policy_for_request
from tenants.models import User


def _dpo_only(request) -> None:
    if getattr(request.user, "provider_role", "") != User.ProviderRole.DPO:
        raise Http404


def _as_dpo(request, company):
    """The DPO's gate context in one company gate 1 admits them to (`companies_entered`)."""
    return person_context(
        user=request.user, company=company, policy=policy_for_request(request, company), channel="admin"
    )


def evidence_list_view(admin_site, request):
    _dpo_only(request)
    rows = []
    for company in companies_entered(user=request.user).order_by("name"):
        with schema_context(company.schema_name), _as_dpo(request, company):
            rows += [(company, pack) for pack in EvidencePack.objects.select_related("requested_by")[:20]]
    context = {**admin_site.each_context(request), "title": "Audit evidence packs", "rows": rows}
    return TemplateResponse(request, "admin/audit/evidence_packs.html", context)


@require_POST
def evidence_download_view(request, slug: str, pk: int):
    _dpo_only(request)
    company = companies_entered(user=request.user).filter(schema_name=slug).first()
    if company is None:
        raise Http404
    with schema_context(company.schema_name), _as_dpo(request, company):
        pack = EvidencePack.objects.filter(pk=pk).first()
        if pack is None:
            raise Http404
        content = evidence_pack_read(
            pack=pack, actor=request.user, channel=AccessLogEntry.Channel.ADMIN, path=request.path
        )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="audit-evidence-{slug}-{pk}.zip"'
    return response
