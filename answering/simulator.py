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
