"""The client's **Usage & billing** screen: the running month so far, and its issued statements
with their CSV and PDF. Client admins only; a draft, or another company's statement, is a 404."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.documents import statement_csv, statement_figures, statement_pdf
from billing.selectors import company_zone, month_current, statement_get, statement_list, usage_for_month
from gates.portal import client_admin_page


@require_GET
@client_admin_page
def usage_billing(request):
    month = month_current()
    return render(
        request,
        "billing/portal/usage.html",
        {
            "month": month,
            "usage": usage_for_month(month=month),
            "statements": list(statement_list(issued_only=True)),
            "zone": company_zone().key,
        },
    )


def _issued(pk: int):
    statement = statement_get(pk=pk, issued_only=True)
    if statement is None:
        raise Http404
    return statement


@require_GET
@client_admin_page
def statement_detail(request, pk: int):
    statement = _issued(pk)
    return render(
        request,
        "billing/portal/statement.html",
        {"statement": statement, "figures": statement_figures(statement), "zone": company_zone().key},
    )


@require_GET
@client_admin_page
def statement_download_csv(request, pk: int):
    return statement_csv(_issued(pk))


@require_GET
@client_admin_page
def statement_download_pdf(request, pk: int):
    statement = _issued(pk)
    response = HttpResponse(statement_pdf(statement, company_name=request.tenant.name), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.month:%Y-%m}-{statement.pk}.pdf"'
    return response
