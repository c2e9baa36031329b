"""A local stand-in for Twilio's REST API, Messages resource (2010-04-01), for tests.

It speaks the real protocol: form-encoded POST to /2010-04-01/Accounts/{AccountSid}/Messages.json
with HTTP basic auth (AccountSid:AuthToken), answering 201 with a Message resource as JSON, or
Twilio's error JSON ({"code", "message", "more_info", "status"}) with its error codes.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []
        self.invalid_numbers: set[str] = set()
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

            def do_POST(self):
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

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
