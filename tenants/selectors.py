"""Reads on client companies and people."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Assignment, ClientCompany, Membership, User


def client_list_active() -> QuerySet[ClientCompany]:
    """Client companies in service: the ones beat, the admin switcher and the portal serve."""
    return ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE)


def client_list_for_user(*, user: User) -> QuerySet[ClientCompany]:
    """The active client companies a person may enter: members theirs, staff their assignments."""
    if not user.is_authenticated or not user.is_active:
        return ClientCompany.objects.none()
    return client_list_active().filter(
        pk__in=Membership.objects.filter(user=user).values("company")
    ) | client_list_active().filter(pk__in=Assignment.objects.filter(user=user).values("company"))
