"""Telephony webhooks on each client company's host, `/telephony/...`.

The Twilio signature (X-Twilio-Signature over the full URL and the POSTed form) is the only
credential: a missing or bad one is a 403, logged. A suspended company's host answers 403 before
this code runs (gates.middleware). Signed parameters that no row could hold (a NUL byte, an id over
64 characters, a duration that is no whole number: `telephony.webhook_params_check`) are a 400,
logged, before anything is fetched or written: TwiML from the endpoints that answer TwiML, JSON
naming the parameter from the others.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from answering import telephony
from answering.simulator import AS_IF_IN_HOURS
from gates.context import system_context
from tenants.errors import ApplicationError
from tenants.files import StorageUnavailable

logger = logging.getLogger("answering.telephony")


def _signed(handler=None, *, twiml: bool = False):
    if handler is None:
        return lambda handler: _signed(handler, twiml=twiml)

    @csrf_exempt
    @require_POST
    def view(request, *args, **kwargs):
        params = request.POST.dict()
        url = request.build_absolute_uri()
        if not telephony.signature_valid(
            url=url, params=params, signature=request.headers.get("X-Twilio-Signature", "")
        ):
            logger.warning(
                "telephony webhook with a bad signature: %s %s from %s",
                request.tenant.schema_name,
                request.path,
                request.META.get("REMOTE_ADDR"),
            )
            return HttpResponseForbidden("invalid signature", content_type="text/plain")
        try:
            telephony.webhook_params_check({**request.GET.dict(), **params})
            # The signature is the webhook's only credential: past it, the call is the job's.
            with system_context(reason="telephony webhook"):
                return handler(request, params)
        except ApplicationError as exc:
            logger.warning(
                "telephony webhook refused: %s %s: %s", request.tenant.schema_name, request.path, exc.message
            )
            if twiml:
                return HttpResponse(telephony.refused_twiml(exc.message), status=400, content_type="text/xml")
            return JsonResponse(exc.as_dict(), status=400)

    return view


def _twiml(xml: str) -> HttpResponse:
    return HttpResponse(xml, content_type="text/xml")


def _base(request) -> str:
    return request.build_absolute_uri("/telephony/")


@_signed(twiml=True)
def voice(request, params):
    # The demo's `simulate_call --in-hours`, signed like every webhook; never in production.
    as_if_in_hours = not settings.PRODUCTION and params.get(AS_IF_IN_HOURS) == "1"
    return _twiml(telephony.inbound_voice(params=params, callback_base=_base(request), as_if_in_hours=as_if_in_hours))


@_signed(twiml=True)
def consent(request, params):
    params = {**request.GET.dict(), **params}
    return _twiml(telephony.consent_gathered(params=params, callback_base=_base(request)))


@_signed(twiml=True)
def queue_wait(request, params):
    return _twiml(telephony.queue_wait(params=params, callback_base=_base(request)))


@_signed(twiml=True)
def queue_result(request, params):
    return _twiml(telephony.queue_result(params=params, callback_base=_base(request)))


@_signed
def status(request, params):
    telephony.call_status(params=params)
    return HttpResponse(status=204)


@_signed
def recording(request, params):
    try:
        telephony.recording_stored(params=params)
    except StorageUnavailable as exc:
        # Nothing was stored and no row names it: the provider's retry (or a replay) stores it, once.
        logger.error("recording %s not stored yet: %s", params.get("RecordingSid", ""), exc)
        response = JsonResponse(
            {"detail": "the file storage is unavailable: send this callback again", "code": "storage_unavailable"},
            status=503,
        )
        response["Retry-After"] = "30"
        return response
    return HttpResponse(status=204)


@_signed
def transcription(request, params):
    telephony.transcription_stored(params=params)
    return HttpResponse(status=204)


@_signed
def sms_status(request, params):
    telephony.sms_status(params=params)
    return HttpResponse(status=204)


@_signed
def transfer_status(request, params):
    """The dialled leg of a warm transfer (answering/services/transfer.py): ringing, answered, no
    answer, busy, hung up."""
    from answering.services.transfer import transfer_status as status_record

    transfer = request.GET.get("transfer", "")
    if not (transfer.isascii() and transfer.isdigit() and len(transfer) < 12):
        raise ApplicationError("transfer must name a transfer by its id", field="transfer")
    status_record(transfer_id=int(transfer), params=params)
    return HttpResponse(status=204)
