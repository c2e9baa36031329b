"""The portal's "API tokens" page: a client user's tokens for this company: issue, list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api.tokens.portal.forms import TokenForm
from api.tokens.scopes import ACTIONS, RESOURCE_LABELS, RESOURCES, scopes_for_role
from api.tokens.selectors import token_list
from api.tokens.services import token_create, token_revoke
from gates.engine import role_for_request
from gates.portal import client_page
from tenants.errors import ApplicationError


def _scope_rows(form: TokenForm, allowed: frozenset[str]) -> list[dict]:
    """The scope checkboxes as a table: one row per resource, a column per action."""
    chosen = set(form["scopes"].value() or [])
    rows = []
    for resource in RESOURCES:
        cells = [
            {"scope": f"{resource}:{action}", "action": action, "checked": f"{resource}:{action}" in chosen}
            for action in ACTIONS
            if f"{resource}:{action}" in allowed
        ]
        if cells:
            rows.append({"resource": resource, "label": RESOURCE_LABELS[resource], "cells": cells})
    return rows


@client_page
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    company = request.tenant
    allowed = scopes_for_role(role_for_request(request, company))
    form = TokenForm(request.POST or None, allowed=allowed)
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, secret = token_create(
                    company=company, user=request.user, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if created is None:
            status = 400
        else:
            form = TokenForm(allowed=allowed)
    context = {
        "form": form,
        "scope_rows": _scope_rows(form, allowed),
        "tokens": token_list(company=company, viewer=request.user),
        "created": created,
        "secret": secret,  # shown in this response only; never stored, never in the session
    }
    return render(request, "tokens/portal/api_tokens.html", context, status=status)


@client_page
@require_POST
def api_token_revoke(request, pk: int):
    token = token_list(company=request.tenant, viewer=request.user).filter(pk=pk).first()
    if token is None:
        raise Http404
    token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("portal-api-tokens")
