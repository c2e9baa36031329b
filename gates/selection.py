"""Which client company a provider staff member is working for in the admin (the switcher)."""

from __future__ import annotations

from tenants.models import ClientCompany

SESSION_KEY = "admin_company"


def selected_company(request) -> ClientCompany | None:
    """The company chosen with the admin's switcher, if gate 1 still admits the person there.

    Checked on every request: an assignment removed or a company suspended takes effect at once.
    """
    if "_gate_company" in request.__dict__:
        return request.__dict__["_gate_company"]
    from gates.engine import Role, role_for_request

    company = None
    schema = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if schema and request.user.is_authenticated and request.user.is_provider_staff:
        candidate = ClientCompany.objects.filter(schema_name=schema, kind=ClientCompany.Kind.CLIENT).first()
        if candidate is not None and role_for_request(request, candidate) != Role.NONE:
            company = candidate
    request.__dict__["_gate_company"] = company
    return company


def company_select(request, company: ClientCompany | None) -> None:
    request.session[SESSION_KEY] = company.schema_name if company else None
    for memo in ("_gate_company", "_gate_policies", "_gate_roles"):
        request.__dict__.pop(memo, None)
