"""Billing in the provider's admin: the plan and the statements, for supervisors and provider
admins only. Agents and the DPO find neither in the menu, and their URLs answer as missing."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.utils import timezone

from billing.models import Plan, Statement, StatementLine
from billing.selectors import month_current
from billing.services import statement_correct, statement_draft, statement_issue, statement_recompute
from billing.usage import FIGURES, Terms
from gates.admin import GatedInline, GatedModelAdmin
from gates.engine import Role
from tenants.errors import ApplicationError

# The provider's commercial side: supervisors run the client accounts; provider admins own them.
BILLING_ROLES = (Role.SUPERVISOR, Role.PROVIDER_ADMIN)


def _refused(request, exc: ApplicationError) -> None:
    messages.error(request, exc.message)


@admin.register(Plan)
class PlanAdmin(GatedModelAdmin):
    list_display = list(Terms.FIELDS)
    readonly_fields = ["updated_at"]
    view_roles = change_roles = add_roles = BILLING_ROLES
    actions = ["draft_last_month"]

    @admin.action(description="Draw up last month's statement (a draft)")
    def draft_last_month(self, request, queryset):
        month = (month_current() - dt.timedelta(days=1)).replace(day=1)
        try:
            statement = statement_draft(month=month, actor=request.user, now=timezone.now())
        except ApplicationError as exc:
            return _refused(request, exc)
        messages.success(request, f"{statement} drawn up: {statement.total_amount} {statement.currency}.")


class StatementLineInline(GatedInline):
    model = StatementLine
    fields = ["telephony_sid", "started_at", "talk_seconds", "wrap_up_seconds", "transfer_seconds", "billed_seconds"]
    readonly_fields = fields
    view_roles = BILLING_ROLES
    change_roles = add_roles = ()
    extra = 0


@admin.register(Statement)
class StatementAdmin(GatedModelAdmin):
    list_display = ["__str__", "month", "status", "calls", "billed_seconds", "total_amount", "currency", "issued_at"]
    list_filter = ["status"]
    fields = ["month", "status", "corrects", *Terms.FIELDS, *FIGURES, "created_at", "issued_at", "issued_by"]
    readonly_fields = fields
    inlines = [StatementLineInline]
    view_roles = BILLING_ROLES
    # Figures are worked out, never typed in: the actions below are the only writes.
    change_roles = add_roles = ()
    actions = ["export_csv", "issue", "recompute", "correct"]

    @admin.action(description="Issue the selected drafts (final: they can never change)")
    def issue(self, request, queryset):
        self._each(request, queryset, statement_issue, "issued")

    @admin.action(description="Recompute the selected drafts from the calls and the plan")
    def recompute(self, request, queryset):
        self._each(request, queryset, statement_recompute, "recomputed")

    @admin.action(description="Correct the selected issued statements (a new draft naming each)")
    def correct(self, request, queryset):
        self._each(request, queryset, statement_correct, "drawn up as a correction")

    def _each(self, request, queryset, service, done: str) -> None:
        if self.gate_policy(request).role not in BILLING_ROLES:
            messages.error(request, "Only a supervisor or a provider admin handles billing.")
            return
        for statement in queryset:
            try:
                result = service(statement=statement, actor=request.user)
            except ApplicationError as exc:
                _refused(request, exc)
            else:
                messages.success(request, f"{result} {done}.")
