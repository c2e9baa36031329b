"""A local stand-in for Twilio's REST API (2010-04-01), for the tests and the demo (`run_demo`
starts one unless TWILIO_API_BASE names a real endpoint): Messages, Calls, Conferences and their
Participants, and Queue Members.

It speaks the real protocol: form-encoded POSTs (and DELETEs) under /2010-04-01/Accounts/{AccountSid}/
with HTTP basic auth (AccountSid:AuthToken), answering with the resource as JSON, or Twilio's
error JSON ({"code", "message", "more_info", "status"}) with its error codes:
- `Messages.json`: send an SMS (201, a Message);
- `Calls.json` and `Calls/{CallSid}.json`: create an outbound call, or update a live one with new
  `Twiml` or `Url` (Twilio's call-update convention: how a caller is moved into a conference);
  a call in `gone_calls` (the caller hung up) is Twilio's 404, error 20404;
- `Conferences/{Name or CF sid}/Participants.json`: dial someone into a conference (created on first
  use, as Twilio does for a friendly name), and `.../Participants/{CallSid}.json`: update one
  (`Hold`, `Muted`) or remove them (DELETE, 204);
- `Queues/{QueueSid}/Members/{CallSid}.json`: "Update a Queue Member", Twilio's dequeue: with `Url`
  (and `Method`) the caller leaves the queue and their call runs the TwiML at that URL, which the
  stand-in requests, signed, as Twilio does (kept in `dequeues`). It cannot see the `<Enqueue>` an
  application answers to the caller's own webhook, so it takes any well-formed member once: a member
  already dequeued, or a call in `gone_calls`, is Twilio's 404, error 20404.
A participant or call created with a `StatusCallback` is answered as a real phone would be: the
stand-in sends Twilio's signed status callbacks (X-Twilio-Signature over the URL and the form) for
`ringing`, then `in-progress` (it answers, standing in for the person on call) or `no-answer` /
`busy` for numbers in `unanswered_numbers` / `busy_numbers`, and `completed` when the leg is
removed. `fail_voice` (or `fail_resources`, by kind) makes voice requests fail as Twilio's outage
would (500, error 20500).
Every voice request is kept in `voice_requests` (method, resource, form) for the tests.

Numbers put in `invalid_numbers` are refused as Twilio refuses a number it cannot send to: error
21211, whose message quotes the number ("The 'To' number +372... is not a valid phone number."),
the way real provider errors carry personal data into whatever stores them.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
VOICE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/"
    r"(?:(?P<calls>Calls\.json)|Calls/(?P<call>CA[0-9a-f]{32})\.json"
    r"|Conferences/(?P<conference>[A-Za-z0-9_.-]{1,64})/Participants(?:/(?P<participant>CA[0-9a-f]{32}))?\.json"
    r"|Queues/(?P<queue>QU[0-9a-f]{32})/Members/(?P<member>CA[0-9a-f]{32}|Front)\.json)$"
)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CLIENT = re.compile(r"^client:[A-Za-z0-9_-]{1,64}$")


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []
        self.invalid_numbers: set[str] = set()
        # Voice: calls and conferences as Twilio keeps them, and what the tests make go wrong.
        self.calls: dict[str, dict] = {}
        self.conferences: dict[str, dict] = {}  # by friendly name: {"sid", "participants": {CallSid: {...}}}
        self.voice_requests: list[tuple[str, str, dict]] = []
        self.dequeues: list[dict] = []  # {"queue_sid", "call_sid", "url", "method"}
        self.callbacks: list[tuple[str, dict, int]] = []  # (url, params, the server's status)
        self.unanswered_numbers: set[str] = set()
        self.busy_numbers: set[str] = set()
        self.gone_calls: set[str] = set()
        self.fail_voice = False
        self.fail_resources: set[str] = set()  # "calls", "call", "conference" (dial in), "participant", "member"
        self.ring_seconds = 0.3
        # A test inside one database transaction cannot be reached from another thread: it holds
        # the callbacks (`hold_callbacks`) and delivers them itself, in order, with `flush(send)`.
        self.hold_callbacks = False
        self.pending: list[tuple[float, int, str, dict]] = []
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _error(self, status: int, code: int, message: str):
                body = json.dumps(
                    {
                        "code": code,
                        "message": message,
                        "status": status,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, resource: dict | None):
                body = json.dumps(resource).encode() if resource is not None else b""
                self.send_response(status)
                if body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self, account_sid: str) -> bool:
                expected = base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {expected}" and account_sid == standin.account_sid

            def _form(self) -> dict:
                length = int(self.headers.get("Content-Length", 0))
                return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

            def _voice(self, method: str, match) -> None:
                if not self._authorised(match.group(1)):
                    return self._error(401, 20003, "Authenticate")
                form = self._form() if method == "POST" else {}
                resource = next(k for k in ("member", "participant", "conference", "call", "calls") if match.group(k))
                standin.voice_requests.append((method, resource, form))
                if standin.fail_voice or resource in standin.fail_resources:
                    return self._error(500, 20500, "An internal server error has occurred")
                status, body = standin.voice(method, resource, match.groupdict(), form)
                if isinstance(body, tuple):
                    return self._error(status, *body)
                return self._json(status, body)

            def do_DELETE(self):
                match = VOICE_PATH.match(self.path)
                if not match or not match.group("participant"):
                    return self._error(404, 20404, "The requested resource was not found")
                return self._voice("DELETE", match)

            def do_POST(self):
                voice = VOICE_PATH.match(self.path)
                if voice:
                    return self._voice("POST", voice)
                match = PATH.match(self.path)
                if not match:
                    return self._error(404, 20404, "The requested resource was not found")
                expected = base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}" or match.group(1) != standin.account_sid:
                    return self._error(401, 20003, "Authenticate")
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not E164.match(form.get("To", "")) or form.get("To") in standin.invalid_numbers:
                    return self._error(400, 21211, f"The 'To' number {form.get('To')} is not a valid phone number.")
                if not form.get("Body"):
                    return self._error(400, 21602, "Message body is required.")
                message = {
                    "sid": "SM" + secrets.token_hex(16),
                    "account_sid": standin.account_sid,
                    "to": form["To"],
                    "from": form.get("From"),
                    "body": form["Body"],
                    "status": "queued",
                    "num_segments": "1",
                    "api_version": "2010-04-01",
                }
                standin.messages.append(message)
                body = json.dumps(message).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ---- voice: what Twilio does with each request ----------------------------------------------

    def voice(self, method: str, resource: str, names: dict, form: dict) -> tuple[int, dict | tuple | None]:
        """(status, resource) or (status, (code, message)) for an error, as Twilio answers."""
        with self.lock:
            if resource == "member":
                return self._dequeue(names, form)
            if resource == "calls":
                to = form.get("To", "")
                if not (E164.match(to) or CLIENT.match(to)) or to in self.invalid_numbers:
                    return 400, (21211, f"The 'To' number {to} is not a valid phone number.")
                if not (form.get("Twiml") or form.get("Url")):
                    return 400, (21205, "Url or Twiml is required.")
                sid = "CA" + secrets.token_hex(16)
                self.calls[sid] = {"sid": sid, "to": to, "from": form.get("From"), "twiml": [form.get("Twiml", "")]}
                self._answer_later(sid, to, form)
                return 201, self._call_resource(sid, "queued")
            if resource == "call":
                sid = names["call"]
                if sid in self.gone_calls:
                    return 404, (20404, f"The requested resource /Calls/{sid}.json was not found")
                call = self.calls.setdefault(sid, {"sid": sid, "to": "", "from": "", "twiml": []})
                if form.get("Twiml") or form.get("Url"):
                    call["twiml"].append(form.get("Twiml") or form.get("Url"))
                    # Moved into a conference by its new TwiML: the caller joins it, as on Twilio.
                    found = re.search(r"<Conference[^>]*>([^<]+)</Conference>", form.get("Twiml", ""))
                    if found:
                        self._conference(found.group(1))["participants"][sid] = {"hold": False, "label": "caller"}
                if form.get("Status") == "completed":
                    self.gone_calls.add(sid)
                return 200, self._call_resource(sid, "in-progress")
            conference = self._conference_named(names["conference"], create=names["participant"] is None)
            if conference is None:
                return 404, (20404, f"The requested resource /Conferences/{names['conference']} was not found")
            if resource == "conference":  # a participant dialled in
                to = form.get("To", "")
                if not (E164.match(to) or CLIENT.match(to)) or to in self.invalid_numbers:
                    return 400, (21211, f"The 'To' number {to} is not a valid phone number.")
                sid = "CA" + secrets.token_hex(16)
                self.calls[sid] = {"sid": sid, "to": to, "from": form.get("From"), "twiml": []}
                conference["participants"][sid] = {"hold": False, "label": form.get("Label", ""), "form": form}
                self._answer_later(sid, to, form)
                return 201, self._participant(conference, sid)
            sid = names["participant"]
            if sid not in conference["participants"]:
                return 404, (20404, f"The requested resource /Participants/{sid}.json was not found")
            if method == "DELETE":
                gone = conference["participants"].pop(sid)
                self.gone_calls.add(sid)
                callback = gone.get("form", {}).get("StatusCallback")
                if callback:
                    self._callback_later(callback, sid, gone["form"], "completed", delay=0.05)
                return 204, None
            for name in ("Hold", "Muted"):
                if name in form:
                    conference["participants"][sid][name.lower()] = form[name].lower() == "true"
            return 200, self._participant(conference, sid)

    def _dequeue(self, names: dict, form: dict) -> tuple[int, dict | tuple]:
        """Update a Queue Member: dequeue the caller to the TwiML at `Url` (requested as Twilio
        does, with the call's parameters and the QueueSid, signed)."""
        queue_sid, sid = names["queue"], names["member"]
        done = {d["call_sid"] for d in self.dequeues if d["queue_sid"] == queue_sid}
        if sid == "Front" or sid in self.gone_calls or sid in done:
            return 404, (20404, f"The requested resource /Queues/{queue_sid}/Members/{sid}.json was not found")
        url, method = form.get("Url", ""), form.get("Method", "POST").upper()
        if not url.startswith(("http://", "https://")):
            return 400, (21205, "Url is not a valid URL.")
        if method != "POST":  # Twilio also takes GET; the application never asks for it
            return 400, (21208, "Method is not valid.")
        self.dequeues.append({"queue_sid": queue_sid, "call_sid": sid, "url": url, "method": method})
        params = {
            "AccountSid": self.account_sid,
            "CallSid": sid,
            "QueueSid": queue_sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        self._send_later(url, params, delay=0.0)
        member = {
            "call_sid": sid,
            "queue_sid": queue_sid,
            "position": 1,
            "wait_time": 0,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Queues/{queue_sid}/Members/{sid}.json",
        }
        return 200, member

    def _conference(self, name: str) -> dict:
        return self.conferences.setdefault(name, {"sid": "CF" + secrets.token_hex(16), "participants": {}})

    def _conference_named(self, name_or_sid: str, *, create: bool) -> dict | None:
        for name, conference in self.conferences.items():
            if name_or_sid in (name, conference["sid"]):
                return conference
        return self._conference(name_or_sid) if create and not name_or_sid.startswith("CF") else None

    def _call_resource(self, sid: str, status: str) -> dict:
        call = self.calls[sid]
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": call["to"],
            "from": call["from"],
            "status": status,
            "api_version": "2010-04-01",
        }

    def _participant(self, conference: dict, sid: str) -> dict:
        held = conference["participants"][sid]
        return {
            "account_sid": self.account_sid,
            "call_sid": sid,
            "conference_sid": conference["sid"],
            "label": held.get("label", ""),
            "hold": held.get("hold", False),
            "muted": held.get("muted", False),
            "status": "queued",
        }

    def _answer_later(self, sid: str, to: str, form: dict) -> None:
        """Ring, then answer (or not), as the person at `to` would: signed status callbacks."""
        callback = form.get("StatusCallback")
        if not callback or CLIENT.match(to):
            return
        if to in self.busy_numbers:
            outcome = "busy"
        elif to in self.unanswered_numbers:
            outcome = "no-answer"
        else:
            outcome = "in-progress"
        self._callback_later(callback, sid, form, "ringing", delay=self.ring_seconds / 3)
        self._callback_later(callback, sid, form, outcome, delay=self.ring_seconds)

    def _callback_later(self, url: str, sid: str, form: dict, status: str, *, delay: float) -> None:
        params = {
            "AccountSid": self.account_sid,
            "CallSid": sid,
            "CallStatus": status,
            "To": form.get("To", ""),
            "From": form.get("From", ""),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(len(self.callbacks)),
        }
        if status in ("completed", "no-answer", "busy"):
            params["CallDuration"] = "0" if status != "completed" else "30"
        self._send_later(url, params, delay=delay)

    def _send_later(self, url: str, params: dict, *, delay: float) -> None:
        """A signed POST to the application after `delay` (held for `flush` in `hold_callbacks`)."""
        if self.hold_callbacks:
            self.pending.append((delay, len(self.pending), url, params))
            return

        def send():
            time.sleep(delay)
            self.callbacks.append((url, params, self.callback_send(url, params)))

        threading.Thread(target=send, daemon=True).start()

    def callback_send(self, url: str, params: dict) -> int:
        """POST a signed callback to the application, as Twilio does; returns its status."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
        parts = urllib.parse.urlsplit(url)
        target = url
        if parts.hostname and (parts.hostname == "localhost" or parts.hostname.endswith(".localhost")):
            # *.localhost is this machine; connect to loopback, naming the host as Twilio would.
            target = urllib.parse.urlunsplit(
                (parts.scheme, f"127.0.0.1:{parts.port or 80}", parts.path, parts.query, "")
            )
            headers["Host"] = parts.netloc
        request = urllib.request.Request(target, data=urllib.parse.urlencode(params).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, TimeoutError):
            return 0

    def flush(self, send=None) -> list[tuple[str, dict, int]]:
        """Deliver the held callbacks in the order Twilio would send them, with `send(url, params)`
        (returns the server's status; by default a signed POST over HTTP). Returns what was sent."""
        sent = []
        while True:
            with self.lock:
                if not self.pending:
                    return sent
                self.pending.sort()
                _, _, url, params = self.pending.pop(0)
            status = (send or self.callback_send)(url, params)
            self.callbacks.append((url, params, status))
            sent.append((url, params, status))

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.conferences.clear()
            self.voice_requests.clear()
            self.dequeues.clear()
            self.callbacks.clear()
            self.pending.clear()
            self.unanswered_numbers.clear()
            self.busy_numbers.clear()
            self.gone_calls.clear()
            self.fail_resources.clear()
            self.fail_voice = self.hold_callbacks = False

    def participants(self, conference_name: str) -> dict:
        with self.lock:
            return dict(self.conferences.get(conference_name, {}).get("participants", {}))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
