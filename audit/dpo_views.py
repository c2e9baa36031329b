"""The DPO's view of the client companies' audit evidence packs (in the admin, /admin/dpo/evidence/).

Only the DPO may open these: the packs are for the company's admins and the DPO, not for agents,
supervisors or provider admins. And only for the companies gate 1 admits the DPO to
(`GatedCrossCompanyAdminView`): a pack of any other company is neither listed nor served (404, as
for a pack that does not exist)."""

from __future__ import annotations

from django.http import HttpResponse

from audit.evidence import evidence_pack_read
from audit.models import AccessLogEntry, EvidencePack
from gates.admin_views import Fetch, GatedCrossCompanyAdminView
from gates.engine import Role


class EvidenceListView(GatedCrossCompanyAdminView):
    """The last 20 packs of each of the DPO's companies."""

    roles = (Role.DPO,)
    http_method_names = ("get",)

    def get(self, request):
        rows = []
        for company in self.companies.order_by("name"):
            with self.entering(company):
                rows += [(company, pack) for pack in self.queryset(EvidencePack).select_related("requested_by")[:20]]
        return self.render("admin/audit/evidence_packs.html", {"title": "Audit evidence packs", "rows": rows})


class EvidenceDownloadView(GatedCrossCompanyAdminView):
    """One pack's ZIP, decrypted, with the download in that company's access log."""

    roles = (Role.DPO,)
    company_argument = "slug"
    objects = {"pk": Fetch(EvidencePack)}
    http_method_names = ("post",)

    def post(self, request, *, company, evidencepack: EvidencePack):
        content = evidence_pack_read(
            pack=evidencepack, actor=request.user, channel=AccessLogEntry.Channel.ADMIN, path=request.path
        )
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-evidence-{company.schema_name}-{evidencepack.pk}.zip"'
        )
        return response
