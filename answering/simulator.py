"""A telephony provider's side of a call, for the demo and the tests: signed webhooks in Twilio's
format, and a local stand-in for Twilio's recording-media endpoint
(GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.wav, basic auth)."""

from __future__ import annotations

import base64
import io
import math
import re
import secrets
import struct
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

# A signed voice webhook carrying this parameter is answered as if the line were in business hours,
# outside the production profile only: `simulate_call --in-hours` (a real Twilio never sends it).
AS_IF_IN_HOURS = "VastajaAsIfInHours"
MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Recordings/(RE[0-9a-f]{32})\.wav$")


def tone_wav(seconds: float = 1.0, hz: int = 440, rate: int = 8000) -> bytes:
    """A small mono 8 kHz WAV: a beep standing in for a caller's voice."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate))) for n in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def sign(*, auth_token: str, url: str, params: dict) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class RecordingMediaServer:
    """Serves recordings the way Twilio does, to whoever presents the account's credentials."""

    def __init__(self, *, account_sid: str, auth_token: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.recordings: dict[str, bytes] = {}
        media = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                match = MEDIA_PATH.match(self.path)
                expected = base64.b64encode(f"{media.account_sid}:{media.auth_token}".encode()).decode()
                if not match or match.group(2) not in media.recordings:
                    self.send_response(404)
                    self.end_headers()
                    return
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self.send_response(401)
                    self.end_headers()
                    return
                body = media.recordings[match.group(2)]
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, audio: bytes) -> tuple[str, str]:
        """Publish audio; returns (RecordingSid, RecordingUrl without extension, as Twilio sends it)."""
        sid = new_sid("RE")
        self.recordings[sid] = audio
        return sid, f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def queue_follow(
    *, twiml: str, post, common: dict, max_seconds: float = 120.0, poll_seconds: float = 1.0, log=print
) -> str:
    """Be Twilio for a caller put in a queue by `<Enqueue>`: request the waitUrl (the hold loop)
    again and again, as Twilio does each time its TwiML ends (here every `poll_seconds`, rather than
    after the spoken hold message), until it answers `<Leave>`; then request the action URL with
    `QueueResult=leave`, or `hangup` when the caller gives up after `max_seconds`. Returns the
    action's TwiML."""
    import time
    import xml.etree.ElementTree as ET

    enqueue = ET.fromstring(twiml).find("Enqueue")
    wait_url, action = enqueue.get("waitUrl"), enqueue.get("action")
    started, told = time.monotonic(), ""
    result = "hangup"
    while time.monotonic() - started < max_seconds:
        waited = str(int(time.monotonic() - started))
        hold = post(wait_url, {**common, "QueueTime": waited, "QueueSid": "QU" + "0" * 32, "CurrentQueueSize": "1"})
        if "<Leave" in hold:
            result = "leave"
            break
        said = ET.fromstring(hold).findtext("Say") or ""
        if said != told:
            log(f"  on hold: {said}")
            told = said
        time.sleep(poll_seconds)
    waited = str(int(time.monotonic() - started))
    return post(action, {**common, "QueueResult": result, "QueueTime": waited, "QueueSid": "QU" + "0" * 32})
