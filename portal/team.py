"""The Team page (client admins): invite people by e-mail, set their role, remove them.

A module of its own rather than tenants/portal/views.py, which the API-tokens page shares."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gates.portal import client_admin_page
from tenants.errors import ApplicationError
from tenants.models import Membership
from tenants.team import member_invite, member_remove, member_role_set, team_list, team_member_get


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"), max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    first_name = forms.CharField(label=gettext_lazy("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), required=False, max_length=150)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Membership.Role.choices, initial=Membership.Role.CLIENT_MEMBER
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Membership.Role.choices)


def _member(request, pk: int) -> Membership:
    try:
        return team_member_get(company=request.tenant, membership_id=pk)
    except Membership.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@client_admin_page
def team(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = member_invite(
                company=request.tenant,
                actor=request.user,
                site_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("%(email)s is invited: an e-mail with a link is on its way.") % {"email": membership.user.email},
            )
            return redirect("portal-team")
    members = [
        {
            "membership": m,
            "role_form": RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"),
            "is_self": m.user_id == request.user.pk,
        }
        for m in team_list(company=request.tenant)
    ]
    return render(
        request,
        "portal/team.html",
        {"form": form, "members": members},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@client_admin_page
def team_member_role(request, pk: int):
    membership = _member(request, pk)
    form = RoleForm(request.POST, prefix=f"m{pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
        return redirect("portal-team")
    try:
        member_role_set(membership=membership, role=form.cleaned_data["role"], actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        role = Membership.Role(form.cleaned_data["role"]).label
        messages.success(request, _("%(user)s is now: %(role)s.") % {"user": membership.user.username, "role": role})
    return redirect("portal-team")


@require_POST
@client_admin_page
def team_member_remove(request, pk: int):
    membership = _member(request, pk)
    try:
        member_remove(membership=membership, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(user)s is no longer in the team.") % {"user": membership.user.username})
    return redirect("portal-team")
