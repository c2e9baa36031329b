"""The portal's answering screens: Today, Messages, Calls and Voicemail.

Gate 1 is the middleware's and `client_page`'s; rows come from the answering selectors, which
apply the object and field gates; every page that shows personal fields reports them to the
access log (channel "portal"), and every play of a voicemail is a `Listen` and a "playback" entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from answering.models import Message, Transfer
from answering.playback import voicemail_play_response
from answering.portal.forms import CallFilterForm, MessageFilterForm
from answering.selectors import (
    call_list,
    line_list,
    message_answers,
    message_attempts,
    message_list,
    message_today,
    transfer_list,
    voicemail_list,
)
from answering.services.messages import message_acknowledge, message_mark
from gates.context import without_personal_fields
from gates.engine import policy_for_request
from gates.portal import client_page
from scheduling.selectors import appointment_upcoming, company_zone, rota_gaps_by_line

PAGE_SIZE = 25
TODAY_ROWS = 8


def _viewer(request) -> dict:
    return {"user": request.user, "policy": policy_for_request(request, request.tenant)}


def _render(request, template: str, context: dict):
    """Render with times in the company's own zone (the template's |date shows local time)."""
    with timezone.override(company_zone()):
        return render(request, template, context)


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# ---- Today -------------------------------------------------------------------------------------


def _today(request) -> dict:
    viewer = _viewer(request)
    # To the minute: a gap that starts "now" must not make every poll look like a change.
    now = timezone.now().replace(second=0, microsecond=0)
    end = now + dt.timedelta(days=7)
    gaps = rota_gaps_by_line(start=now, end=end)  # one query for every line
    lines = [(line, gaps.get(line.pk, [(now, end)])) for line in line_list()]
    return {
        "company": request.tenant,
        "lines": lines,
        "new_messages": message_today(**viewer, limit=TODAY_ROWS),
        "recent_calls": list(call_list(**viewer)[:TODAY_ROWS]),
        "new_voicemails": list(voicemail_list(**viewer, unheard=True)[:TODAY_ROWS]),
        "appointments": appointment_upcoming(**viewer, limit=TODAY_ROWS),
    }


def _fingerprint(context: dict) -> str:
    """What Today shows, by ids and states only: a poll that finds it unchanged sends nothing."""
    parts = [
        [(m.pk, m.status, m.escalation_level) for m in context["new_messages"]],
        [(c.pk, c.status) for c in context["recent_calls"]],
        [v.pk for v in context["new_voicemails"]],
        [(a.pk, a.starts_at.isoformat()) for a in context["appointments"]],
        [(line.pk, [(a.isoformat(), b.isoformat()) for a, b in gaps]) for line, gaps in context["lines"]],
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


@client_page
def portal_home(request):
    """Today: new and urgent messages, recent calls, new voicemail, upcoming appointments and the
    lines' on-call gaps. The panel refreshes itself every 10 seconds (htmx)."""
    context = _today(request)
    context["fingerprint"] = _fingerprint(context)
    return _render(request, "answering/portal/today.html", context)


@client_page
def portal_home_panel(request):
    """The Today panel for htmx polling: 204 (nothing to swap, nothing read) when unchanged. The
    check reads ids and states only, no personal field; only a change reads the panel itself."""
    with without_personal_fields():
        unchanged = request.GET.get("seen") == _fingerprint(_today(request))
    if unchanged:
        return HttpResponse(status=204)
    context = _today(request)
    context["fingerprint"] = _fingerprint(context)
    return _render(request, "answering/portal/today_panel.html", context)


# ---- Messages ----------------------------------------------------------------------------------


@client_page
def message_index(request):
    form = MessageFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.cleaned_data if form.is_bound else {}
        rows = message_list(
            **_viewer(request),
            status=filters.get("status", ""),
            urgency=filters.get("urgency", ""),
            line=filters.get("line"),
        )
        page = _page(request, rows)
    context = {"form": form, "page": page, "query": _query_without_page(request)}
    return _render(request, "answering/portal/messages.html", context)


def _message_or_404(request, pk: int) -> Message:
    message = message_list(**_viewer(request)).filter(pk=pk).first()
    if message is None:
        raise Http404("No such message.")
    return message


@client_page
def message_detail(request, pk: int):
    message = message_mark(message=_message_or_404(request, pk), status=Message.Status.READ, actor=request.user)
    context = {
        "message": message,
        "answers": message_answers(message),
        "attempts": list(message_attempts(message=message)),
    }
    return _render(request, "answering/portal/message_detail.html", context)


@require_POST
@client_page
def message_acknowledge_view(request, pk: int):
    message = _message_or_404(request, pk)
    message_mark(message=message, status=Message.Status.READ, actor=request.user)
    message_acknowledge(message=message, actor=request.user)
    messages.success(request, _("Message #%(id)s acknowledged: nobody else will be alerted about it.") % {"id": pk})
    return HttpResponseRedirect(reverse("portal-message", args=[pk]))


# ---- Calls -------------------------------------------------------------------------------------


@client_page
def call_index(request):
    form = CallFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.cleaned_data if form.is_bound else {}
        rows = call_list(
            **_viewer(request),
            zone=company_zone(),
            line=filters.get("line"),
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
            disposition=filters.get("disposition", ""),
            agent=filters.get("agent"),
        )
        page = _page(request, rows)
    context = {"form": form, "page": page, "query": _query_without_page(request)}
    return _render(request, "answering/portal/calls.html", context)


@client_page
def call_detail(request, pk: int):
    viewer = _viewer(request)
    call = call_list(**viewer).filter(pk=pk).first()
    if call is None:
        raise Http404("No such call.")
    # A message taken on a transferred call often holds only the script's answers (the reason,
    # a call-back number), not a body: the page shows those answers, never an empty line.
    call_messages = [(m, message_answers(m)) for m in message_list(**viewer).filter(call=call)]
    voicemail = voicemail_list(**viewer).filter(call=call).first()
    transfers = list(transfer_list(**viewer, call=call))
    context = {
        "call": call,
        "call_messages": call_messages,
        "voicemail": voicemail,
        "transfers": transfers,
        "show_transfer_number": viewer["policy"].can_read(Transfer, "target_number"),
    }
    return _render(request, "answering/portal/call_detail.html", context)


# ---- Scripts ----------------------------------------------------------------------------------


@client_page
def script_index(request):
    """The published script of each line, every path through it: what the agents ask and do."""
    from answering.scripts import script_current, script_preview

    lines = []
    for line in line_list():
        version = script_current(line=line)
        lines.append({"line": line, "version": version, "paths": script_preview(version.steps) if version else []})
    return _render(request, "answering/portal/scripts.html", {"lines": lines})


# ---- Voicemail ---------------------------------------------------------------------------------


@client_page
def voicemail_index(request):
    form = MessageFilterForm(request.GET or None)  # only its line filter is offered here
    unheard = request.GET.get("unheard") == "1"
    page = None
    if not form.is_bound or form.is_valid():
        line = form.cleaned_data.get("line") if form.is_bound else None
        page = _page(request, voicemail_list(**_viewer(request), line=line, unheard=unheard))
    context = {"form": form, "unheard": unheard, "page": page, "query": _query_without_page(request)}
    return _render(request, "answering/portal/voicemail.html", context)


@client_page
def voicemail_play(request, pk: int):
    """The decrypted audio for the page's <audio> player; each play is logged."""
    viewer = _viewer(request)
    voicemail = voicemail_list(**viewer).filter(pk=pk).first()
    if voicemail is None:
        raise Http404("No such voicemail.")
    return voicemail_play_response(request, voicemail=voicemail, **viewer)
