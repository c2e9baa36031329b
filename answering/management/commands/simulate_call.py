"""Drive a running Vastaja's telephony webhooks as Twilio would, with signed requests.

.venv/bin/python manage.py simulate_call acme --from +37251234501 [--to +3726001001]
    [--voicemail "Please call me back"] [--in-hours] [--hold 120] [--talk 0]
    [--port 8000 | --base http://acme.localhost:8000]

Outside the company's business hours (in its own zone) a call goes to voicemail or to the person on
call, as the line says; `--in-hours` makes it as if the line were open, so that it reaches the agents.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from answering.models import Line
from answering.simulator import AS_IF_IN_HOURS, RecordingMediaServer, new_sid, queue_follow, sign, tone_wav
from gates.context import system_context
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = "Simulate an inbound call against the running server's telephony webhooks (signed like Twilio)."

    def add_arguments(self, parser):
        parser.add_argument("company", help="the client company's slug, e.g. acme")
        parser.add_argument("--from", dest="caller", default="+37251234501", help="the caller's number")
        parser.add_argument("--to", help="the line's number (default: the company's first line)")
        parser.add_argument("--voicemail", help="leave a voicemail with this transcription, if the line takes one")
        parser.add_argument(
            "--in-hours",
            action="store_true",
            help="answer as if the line were in business hours (the demo server only; never in production)",
        )
        parser.add_argument(
            "--hold", type=float, default=120.0, help="seconds the caller waits in the agents' queue before hanging up"
        )
        parser.add_argument(
            "--talk",
            type=float,
            default=0.0,
            help="once put through to an agent, stay on the line until the agent wraps the call up (a warm "
            "transfer included), for at most this many seconds; 0 hangs up at once",
        )
        parser.add_argument("--port", type=int, default=8000, help="the port the demo serves on (run_demo --port)")
        parser.add_argument("--base", help="the server's base URL (default: http://<slug>.<suffix>:<port>)")

    @system_context(reason="simulate a call")
    def handle(
        self,
        *args,
        company: str,
        caller: str,
        to: str | None,
        voicemail: str | None,
        in_hours: bool,
        hold: float,
        talk: float,
        port: int,
        base: str | None,
        **options,
    ):
        if settings.PRODUCTION:
            raise CommandError("simulate_call is a demo aid and never runs in the production profile")
        tenant = ClientCompany.objects.filter(schema_name=company, kind=ClientCompany.Kind.CLIENT).first()
        if tenant is None:
            raise CommandError(f"no client company '{company}'")
        if to is None:
            with tenant_context(tenant):
                line = Line.objects.order_by("pk").first()
            if line is None:
                raise CommandError(f"{company} has no line")
            to = line.phone_number
        base = (base or f"http://{company}.{settings.TENANT_DOMAIN_SUFFIX}:{port}").rstrip("/")
        call_sid = new_sid("CA")
        common = {
            "CallSid": call_sid,
            "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            "From": caller,
            "To": to,
            "Direction": "inbound",
        }

        self.stdout.write(f"Calling {to} from {caller} ({call_sid})")
        ringing = {**common, "CallStatus": "ringing", **({AS_IF_IN_HOURS: "1"} if in_hours else {})}
        twiml = self._post(f"{base}/telephony/voice/", ringing)
        self.stdout.write(f"  TwiML: {twiml}")
        queued = "<Enqueue" in twiml
        if queued:
            self.stdout.write(
                f"  in the agents' queue: waiting up to {hold:.0f} s for an agent to accept on the console"
            )
            twiml = queue_follow(twiml=twiml, post=self._post, common=common, max_seconds=hold, log=self.stdout.write)
            self.stdout.write(f"  left the queue: {twiml}")
        if "<Record" in twiml:
            with RecordingMediaServer(
                account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN
            ) as media:
                recording_sid, url = media.add(tone_wav(2.0))
                self._post(
                    f"{base}/telephony/recording/",
                    {
                        **common,
                        "RecordingSid": recording_sid,
                        "RecordingUrl": url,
                        "RecordingStatus": "completed",
                        "RecordingDuration": "2",
                    },
                )
                self.stdout.write(f"  voicemail recorded ({recording_sid}), fetched by the server and stored encrypted")
            if voicemail:
                self._post(
                    f"{base}/telephony/transcription/",
                    {
                        **common,
                        "RecordingSid": recording_sid,
                        "TranscriptionText": voicemail,
                        "TranscriptionStatus": "completed",
                    },
                )
                self.stdout.write("  transcription delivered")
        else:
            self._post(f"{base}/telephony/status/", {**common, "CallStatus": "in-progress"})
            where = "forwarded to the person on call" if "<Dial" in twiml else "queued for the agents"
            if "<Client>" in twiml:
                where = "put through to the agent who accepted it"
            elif queued and "<Dial" not in twiml:
                where = "the caller hung up in the queue"
            self.stdout.write(f"  answered: {where}")
            if "<Client>" in twiml and talk > 0:
                self._talk(tenant, call_sid, talk)
        if ("<Record" in twiml or "<Dial" in twiml) and not in_hours:
            self.stdout.write("  outside business hours: --in-hours makes the call as if the line were open")
            time.sleep(0.5)
        self._post(f"{base}/telephony/status/", {**common, "CallStatus": "completed", "CallDuration": "42"})
        self.stdout.write(self.style.SUCCESS("  call completed: see it in the admin under Answering desk → Calls"))

    def _talk(self, tenant: ClientCompany, call_sid: str, seconds: float) -> None:
        """Stay on the line while the agent handles the call (and transfers it, if they do: Twilio
        then moves this call into a conference, by the REST API, without a webhook here), until it
        is wrapped up or `seconds` pass."""
        from answering.models import Call

        self.stdout.write(f"  talking to the agent: up to {seconds:.0f} s, until they wrap the call up")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with tenant_context(tenant):
                disposition = Call.objects.filter(telephony_sid=call_sid).values_list("disposition", flat=True).first()
            if disposition:
                self.stdout.write(f"  wrapped up by the agent: {disposition}")
                return
            time.sleep(0.5)
        self.stdout.write("  the caller hangs up")

    def _post(self, url: str, params: dict) -> str:
        data = urllib.parse.urlencode(params).encode()
        signature = sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params)
        headers = {"X-Twilio-Signature": signature}
        parts = urllib.parse.urlsplit(url)
        target = url
        if parts.hostname and (parts.hostname == "localhost" or parts.hostname.endswith(".localhost")):
            # Browsers and curl resolve *.localhost to this machine; Python's resolver may not. Connect
            # to the loopback address and name the company's host in the Host header, as a browser would.
            target = urllib.parse.urlunsplit((parts.scheme, f"127.0.0.1:{parts.port or 80}", parts.path, "", ""))
            headers["Host"] = parts.netloc
        request = urllib.request.Request(target, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{url} answered {exc.code}: {exc.read().decode()[:200]}") from None
        except urllib.error.URLError as exc:
            raise CommandError(f"cannot reach {url}: {exc.reason}. Is the demo running (manage.py run_demo)?") from None
