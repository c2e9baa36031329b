"""Playing voicemail and recordings: through the gates, decrypted only in memory, every play
recorded (a `Listen` row and an access-log entry on the playback channel), whoever plays it: a
provider agent in the admin, or the client's own people in the portal and the API."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse

from answering.models import Listen, Voicemail
from gates.engine import Policy
from gates.signals import report_read
from tenants.files import encrypted_file_read
from tenants.models import User

AUDIO_CONTENT_TYPE = "audio/wav"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def voicemail_audio(*, voicemail: Voicemail, user: User, policy: Policy, path: str, count_play: bool = True) -> bytes:
    """The decrypted audio of a voicemail the caller already found through the object gate.
    Refused (404, like a missing one) where the field gate does not give them voice; a play is
    recorded unless `count_play` is False (a browser asking for the rest of a file it is playing)."""
    if not policy.can_read(Voicemail, "audio") or not voicemail.audio:
        raise Http404("No such voicemail.")
    audio = encrypted_file_read(voicemail.audio)
    if count_play:
        Listen.objects.create(voicemail=voicemail, user=user)
        report_read(
            user=user, channel="playback", model=Voicemail, object_ids=[voicemail.pk], fields=["audio"], path=path
        )
    return audio


def requested_range(request, size: int) -> tuple[int, int] | None:
    """The single byte range a player asks for (`Range: bytes=a-b`), clamped; None for the whole file."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or size == 0:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return (size, size)  # unsatisfiable
    return start, end


def is_continuation(request) -> bool:
    """A player fetching a later part of a file it is already playing (seeking), not a new play."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    return bool(match and match.group(1) not in ("", "0"))


def audio_response(request, audio: bytes, *, content_type: str = AUDIO_CONTENT_TYPE) -> HttpResponse:
    """The audio, whole or the byte range asked for (so a player can seek), never cached."""
    size = len(audio)
    wanted = requested_range(request, size)
    if wanted is None:
        response = HttpResponse(audio, content_type=content_type)
    elif wanted[0] >= size:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted
        response = HttpResponse(audio[start : end + 1], status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
