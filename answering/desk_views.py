"""The agent's console in the provider's admin (`/admin/desk/`): presence, the offer of a call, and
the screen pop. The console's socket (desk/consumers.py) receives only ids and states; the screen
pop is this page's own fragment, rendered on the agent's request inside the call's company, through
the gates: the caller as the DPA and the object grants allow, never more than the answer page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from answering.models import Call, Message
from answering.scripts import desk_script
from answering.selectors import call_desk_caller
from desk.models import AgentState, BreakReason, QueuedCall
from desk.selectors import break_reasons, offer_current, presence_changes, presence_of, queue_waiting_counts
from desk.services import offer_accept, presence_set
from gates.admin_views import GatedCrossCompanyAdminView
from gates.engine import WITHHELD, Role
from gates.selection import company_select
from tenants.errors import ApplicationError
from tenants.timezones import company_zone_of

CONSOLE_ROLES = (Role.AGENT, Role.SUPERVISOR)
RECENT = 5


class DeskConsoleView(GatedCrossCompanyAdminView):
    """The agents' landing page: their state (Available, On break with a reason, Wrap-up,
    Offline), the calls waiting per company they work for (counts only), and the offered call."""

    roles = CONSOLE_ROLES

    def get(self, request):
        presence = presence_of(user=request.user)
        offer = offer_current(user=request.user)
        waiting = queue_waiting_counts(companies=self.companies)
        context = {
            "title": "Console",
            "presence": presence,
            "state": presence.state if presence else AgentState.OFFLINE,
            "state_label": presence.get_state_display() if presence else AgentState.OFFLINE.label,
            "reason": presence.reason if presence else None,
            "reasons": break_reasons(),
            "companies": [(c, waiting.get(c.schema_name, 0)) for c in self.companies.order_by("name")],
            "offer": offer,
            "changes": presence_changes(user=request.user),
            "states": AgentState,
        }
        return self.render("admin/desk/console.html", context)

    def post(self, request):
        state = request.POST.get("state", "")
        reason = None
        if request.POST.get("reason", "").isdigit():  # anything else is no reason, not a 500
            reason = BreakReason.objects.filter(pk=request.POST["reason"]).first()
        try:
            presence_set(user=request.user, state=state, reason=reason)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:desk_console"))


class OfferView(GatedCrossCompanyAdminView):
    """The screen pop of the call offered to this agent (a fragment the console fetches), and
    **Accept**, which switches the admin to the call's company and opens its answer page. A call
    not offered to this person is a 404, like one that does not exist."""

    roles = CONSOLE_ROLES
    company_argument = "slug"

    def _offered(self, company, queued: int) -> QueuedCall:
        found = QueuedCall.objects.filter(
            pk=queued, company=company, offered_to=self.request.user, state=QueuedCall.State.OFFERED
        ).first()
        if found is None:
            raise Http404("No such object.")
        return found

    def get(self, request, *, company, queued: int):
        offered = self._offered(company, queued)
        call = self.get_object(Call, offered.call_id, related=("line",))
        contact = self.related(call, "contact")
        caller = call_desk_caller(call=call, contact=contact, policy=self.policy)
        recent_calls, recent_messages = [], []
        if contact is not None and contact is not WITHHELD:
            recent_calls = list(
                self.queryset(Call)
                .filter(contact_id=contact.pk)
                .exclude(pk=call.pk)
                .only("pk", "started_at", "status", "disposition")
                .order_by("-started_at")[:RECENT]
            )
            recent_messages = list(
                self.queryset(Message)
                .filter(contact_id=contact.pk)
                .only("pk", "created_at", "urgency", "status")
                .order_by("-created_at")[:RECENT]
            )
        script = desk_script(line=call.line, policy=self.policy)
        with timezone.override(company_zone_of(company)):
            context = {
                "company": company,
                "zone": company_zone_of(company).key,
                "queued": offered,
                "call": call,
                "line": call.line,
                "caller_number": caller.number,
                "caller": caller.known,
                "caller_restricted": caller.restricted,
                "recent_calls": recent_calls,
                "recent_messages": recent_messages,
                "steps": script.steps,
                "version": script.version,
                "waiting_since": int(offered.enqueued_at.timestamp()),
                "expires_at": int(offered.offer_expires_at.timestamp()),
                "accept_url": reverse("admin:desk_offer_accept", args=[company.schema_name, offered.pk]),
            }
            response = self.render("admin/desk/offer_card.html", context)
            response.render()
        return response

    def post(self, request, *, company, queued: int):
        try:
            accepted = offer_accept(user=request.user, queued_id=self._offered(company, queued).pk)
        except (ApplicationError, Http404):
            messages.error(request, "This call is no longer offered to you.")
            return HttpResponseRedirect(reverse("admin:desk_console"))
        company_select(request, company)
        messages.success(request, f"You are now working for {company.name}.")
        return HttpResponseRedirect(reverse("admin:answering_call_answer", args=[accepted.call_id]))
