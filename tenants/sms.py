"""Sending SMS through Twilio's REST API (Messages resource, API version 2010-04-01).

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


class SmsError(Exception):
    pass


def sms_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER)


def sms_send(*, to: str, body: str) -> str:
    """Send one SMS; returns Twilio's message SID. Raises SmsError with Twilio's own reason."""
    if not sms_configured():
        raise SmsError("SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)")
    sid = settings.TWILIO_ACCOUNT_SID
    url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    data = urllib.parse.urlencode({"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": body}).encode()
    credentials = base64.b64encode(f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Authorization": f"Basic {credentials}"})
    # Twilio's reasons quote the number ("The 'To' number +372... is not a valid phone number"):
    # scrubbed here, so that no caller stores or logs it; its error code stays.
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["sid"]
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc)
            reason = f"error {detail.get('code')}: {detail.get('message')}"
        except ValueError:
            reason = exc.reason
        raise SmsError(provider_text_scrub(f"Twilio refused the message: HTTP {exc.code}, {reason}")) from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SmsError(provider_text_scrub(f"Twilio could not be reached: {exc}")) from None
