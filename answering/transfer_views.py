"""The agent's warm-transfer buttons on the answer page (`/admin/answering/call/<pk>/transfer/`):
**Transfer** (to the target of the script's transfer step, never a number the agent types),
**Bridge and leave**, **Return to the caller**, and the panel's state, which the page polls while
the person on call is being dialled or announced to. The engine is answering/services/transfer.py.

The call is fetched through the agent's gates (another company's call, or a line they hold no grant
on, is a 404); the number dialled is shown only where the DPA grants the agent phone numbers. A
request from the page's script gets the panel back as a fragment; a plain form post is redirected
to the answer page with the outcome as a message. Every refusal is a message, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from answering.models import Call, Transfer
from answering.scripts import desk_script
from answering.services.calls import DESK_ROLES
from answering.services.transfer import transfer_bridge, transfer_return, transfer_start
from gates.admin_views import Fetch, GatedAdminView
from tenants.errors import ApplicationError
from tenants.timezones import company_zone_of

FRAGMENT_HEADER = "X-Requested-With"
SUGGESTED_WRAP_UP = {
    Transfer.State.BRIDGED: "transferred",
    Transfer.State.RETURNED: "message_taken",
    Transfer.State.FAILED: "message_taken",
}


def transfer_steps(script) -> dict[str, dict]:
    return {step["id"]: step for step in script.steps if step.get("kind") == "transfer"}


def transfer_panel_context(view: GatedAdminView, call: Call, *, error: str = "") -> dict:
    """What the panel shows: the call's latest transfer (its number deferred where the agent may
    not read it), its earlier ones, and whether the number may be shown."""
    transfers = list(view.queryset(Transfer).filter(call_id=call.pk).order_by("-started_at", "-pk"))
    latest = transfers[0] if transfers else None
    return {
        "call": call,
        "transfer": latest,
        "earlier": transfers[1:],
        "transfer_open": latest is not None and latest.state in Transfer.OPEN_STATES,
        "show_number": view.policy.can_read(Transfer, "target_number"),
        "suggest": SUGGESTED_WRAP_UP.get(latest.state, "") if latest else "",
        "transfer_url": reverse("admin:answering_call_transfer", args=[call.pk]),
        "transfer_error": error,
        "zone": company_zone_of(view.company).key,
    }


class TransferView(GatedAdminView):
    """GET: the panel. POST `action=start&step=<id>` | `action=bridge` | `action=return`."""

    roles = DESK_ROLES
    objects = {"pk": Fetch(Call, related=("line",))}

    def get(self, request, *, call: Call):
        return self._panel(request, call)

    def post(self, request, *, call: Call):
        action, error, done = request.POST.get("action", ""), "", ""
        try:
            if action == "start":
                step = transfer_steps(desk_script(line=call.line, policy=self.policy)).get(request.POST.get("step", ""))
                if step is None:
                    raise ApplicationError("this script has no such transfer step", field="step")
                transfer = transfer_start(
                    call=call, actor=request.user, target=step["target"], callback_base=self._callback_base(request)
                )
                if transfer.state == Transfer.State.FAILED:
                    error = f"The transfer failed: {transfer.failure}. You are back with the caller: take a message."
                else:
                    done = "Dialling: the caller is on hold."
            elif action in ("bridge", "return"):
                transfer = self.queryset(Transfer).filter(call_id=call.pk).order_by("-started_at", "-pk").first()
                if transfer is None:
                    raise ApplicationError("this call has no transfer under way", field="transfer")
                if action == "bridge":
                    transfer_bridge(transfer=transfer, actor=request.user)
                    done = "Put through: the caller is with the person you called. Wrap up the call."
                else:
                    transfer_return(transfer=transfer, actor=request.user)
                    done = "You are back with the caller: take their message."
            else:
                raise ApplicationError("choose start, bridge or return", field="action")
        except ApplicationError as exc:
            error = exc.message[:1].upper() + exc.message[1:]
        if request.headers.get(FRAGMENT_HEADER) == "fetch":
            return self._panel(request, call, error=error, done=done)
        if error:
            messages.error(request, error)
        elif done:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("admin:answering_call_answer", args=[call.pk]))

    def _panel(self, request, call: Call, *, error: str = "", done: str = ""):
        steps = transfer_steps(desk_script(line=call.line, policy=self.policy))
        wanted = request.POST.get("step") or request.GET.get("step", "")
        step = steps.get(wanted) or next(iter(steps.values()), None)
        with timezone.override(company_zone_of(self.company)):
            context = {
                **transfer_panel_context(self, call, error=error),
                "transfer_done": done,
                "transfer_step": step,
            }
            response = self.render("admin/answering/transfer_panel.html", context)
            response.render()
        return response

    def _callback_base(self, request) -> str:
        """The company's own host: Twilio's callbacks reach the telephony webhooks there."""
        domain = self.company.get_primary_domain().domain
        port = request.get_port()
        netloc = domain if port in ("80", "443") else f"{domain}:{port}"
        return f"{request.scheme}://{netloc}/telephony/"
