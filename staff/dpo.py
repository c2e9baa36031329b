"""The DPO workspace: one page over the whole of the DPO's domain. It lives in the admin shell,
above the compliance rooms it reads, so that none of them has to import the others."""

from __future__ import annotations

from compliance.agreements.admin import READERS
from compliance.agreements.selectors import (
    dpa_client_rejections,
    dpa_expiring,
    dpa_review_queue,
    sub_processor_objections,
    sub_processors_in_objection_window,
)
from compliance.agreements.subprocessors import USAGE_DAYS, integrations_in_use, version_drops_in_use
from compliance.risks.selectors import assessments_review_overdue, diligence_overdue, sub_processors_without_diligence
from compliance.training.selectors import overdue_training_count
from gates.admin_views import GatedCrossCompanyAdminView


class DpoWorkspaceView(GatedCrossCompanyAdminView):
    """One page for the DPO: the review queue, expiring agreements, open objection windows, what
    client companies objected to or rejected, each company's integrations in use and whether its
    DPA in force authorises them (and whether each version waiting would), and the risk register's
    overdue reviews, sub-processors' due diligence and staff training lapsed.

    Only the companies gate 1 admits the person to (`self.companies`): a DPO taken off a company
    sees nothing of it here (the due diligence on the provider's own sub-processors belongs to no
    company)."""

    roles = READERS
    http_method_names = ("get",)

    def get(self, request):
        companies = self.companies
        mine = set(companies.values_list("pk", flat=True))
        queue = list(dpa_review_queue().filter(agreement__company__in=companies).order_by("submitted_at"))
        context = {
            "title": "DPO workspace",
            "queue": queue,
            "drops": [(v, warnings) for v in queue if (warnings := version_drops_in_use(version=v))],
            "integrations": [
                (company, integrations_in_use(company=company))
                for company in companies.filter(kind="client").order_by("name")
            ],
            "usage_days": USAGE_DAYS,
            "expiring": dpa_expiring().filter(agreement__company__in=companies).order_by("end_date"),
            "objections": [s for s in sub_processors_in_objection_window() if s.version.agreement.company_id in mine],
            "risk_reviews_overdue": assessments_review_overdue().filter(company__in=companies),
            "diligence_overdue": diligence_overdue(),
            "diligence_missing": sub_processors_without_diligence(companies=companies),
            "training_overdue": overdue_training_count(companies=companies),
            "raised": sub_processor_objections().filter(sub_processor__version__agreement__company__in=companies)[:50],
            "rejections": dpa_client_rejections().filter(version__agreement__company__in=companies)[:50],
        }
        return self.render("admin/dpo_workspace.html", context)
