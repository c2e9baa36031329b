"""The gate decisions. Channels ask; they never decide for themselves."""

from __future__ import annotations

from tenants.models import Assignment, ClientCompany, Membership, User


def tenant_gate_allows(*, user: User, company: ClientCompany) -> bool:
    """Gate 1: may this person enter this client company at all?

    Only active client companies admit anyone, and only their members and the provider staff
    assigned to them. Callers answer a refusal with 404, never 403, so nothing leaks about what
    exists.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    if not (company.is_client and company.is_active):
        return False
    if user.is_provider_staff:
        return Assignment.objects.filter(user=user, company=company).exists()
    return Membership.objects.filter(user=user, company=company).exists()
