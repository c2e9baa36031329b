"""Sending SMS through Twilio's REST API (Messages resource, API version 2010-04-01), and
`twilio_rest`, the one request every call of that API makes (the warm transfer's too).

A plain HTTPS form POST with HTTP basic auth, so that a local stand-in speaking the same protocol
can take Twilio's place in tests and on machines that cannot reach it (TWILIO_API_BASE).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from tenants.scrub import provider_text_scrub


class TwilioError(Exception):
    """Twilio refused a request or could not be reached; the text is Twilio's reason, scrubbed."""


class SmsError(TwilioError):
    pass


def twilio_rest(
    method: str, resource: str, form: dict | None = None, *, timeout: float, refused: str, error=TwilioError
) -> dict:
    """One request to Twilio's REST API (`resource` under the account, "Messages.json" say): a form
    POST (or a GET or DELETE without `form`) with HTTP basic auth; returns the JSON answer, or {}.
    Twilio's reasons quote numbers ("The 'To' number +372... is not a valid phone number"): they are
    scrubbed here, so that no caller stores or logs one; the error code stays. Raises `error`
    ("<refused> HTTP 400, error 21211: ..." or "Twilio could not be reached: ...")."""
    sid = settings.TWILIO_ACCOUNT_SID
    url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/{resource}"
    credentials = base64.b64encode(f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Basic {credentials}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            return json.loads(body) if body else {}
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc)
            reason = f"error {detail.get('code')}: {detail.get('message')}"
        except ValueError:
            reason = exc.reason
        raise error(provider_text_scrub(f"{refused} HTTP {exc.code}, {reason}")) from None
    except OSError as exc:  # unreachable, refused, timed out
        raise error(provider_text_scrub(f"Twilio could not be reached: {exc}")) from None


def sms_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER)


def sms_send(*, to: str, body: str) -> str:
    """Send one SMS; returns Twilio's message SID. Raises SmsError with Twilio's own reason."""
    if not sms_configured():
        raise SmsError("SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)")
    form = {"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": body}
    answer = twilio_rest(
        "POST", "Messages.json", form, timeout=10, refused="Twilio refused the message:", error=SmsError
    )
    return answer["sid"]
