"""Playing voicemail and recordings: through the gates, decrypted only in memory, every play
recorded (a `Listen` row and an access-log entry on the playback channel), whoever plays it: a
provider agent in the admin, or the client's own people in the portal and the API."""

from __future__ import annotations

import logging
import re

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from answering.models import Listen, Voicemail
from gates.engine import Policy
from gates.signals import report_read
from tenants.files import StorageUnavailable, encrypted_file_read
from tenants.models import User

AUDIO_CONTENT_TYPE = "audio/wav"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
RETRY_AFTER_SECONDS = 30
logger = logging.getLogger(__name__)


class AudioUnavailable(Exception):
    """The voicemail may be played, but its audio cannot be had now: missing from storage,
    unreadable, or the storage does not answer. Raised only after the gates let the person in,
    so saying so tells nothing they may not know."""

    def __init__(self, message: str, *, status: int, code: str):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def _stored_audio(voicemail: Voicemail) -> bytes:
    try:
        return encrypted_file_read(voicemail.audio)
    except FileNotFoundError:
        logger.error("voicemail #%s: its audio %s is not in storage", voicemail.pk, voicemail.audio)
        raise AudioUnavailable(
            _("This voicemail's audio is missing from storage."), status=404, code="audio_missing"
        ) from None
    except ValueError as exc:  # tenants.files: altered, or its key is not to be had
        logger.error("voicemail #%s: %s", voicemail.pk, exc)
        raise AudioUnavailable(
            _("This voicemail's audio cannot be decrypted."), status=409, code="audio_unreadable"
        ) from None
    except StorageUnavailable as exc:
        logger.warning("voicemail #%s: %s", voicemail.pk, exc)
        raise AudioUnavailable(
            _("The audio storage is temporarily unavailable. Try again shortly."),
            status=503,
            code="storage_unavailable",
        ) from None


def voicemail_audio(*, voicemail: Voicemail, user: User, policy: Policy, path: str, count_play: bool = True) -> bytes:
    """The decrypted audio of a voicemail the caller already found through the object gate.
    Refused (404, like a missing one) where the field gate does not give them voice; a play is
    recorded unless `count_play` is False (a browser asking for the rest of a file it is playing).
    Raises AudioUnavailable, and records no play, when the stored audio cannot be had."""
    if not policy.can_read(Voicemail, "audio") or not voicemail.audio:
        raise Http404("No such voicemail.")
    audio = _stored_audio(voicemail)
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


def voicemail_play_response(request, *, voicemail: Voicemail, user: User, policy: Policy) -> HttpResponse:
    """What every channel answers a play with: the audio (whole or the range asked for), or, when
    storage fails it, a clear error (JSON under /api/, plain text elsewhere), never a 500."""
    try:
        audio = voicemail_audio(
            voicemail=voicemail, user=user, policy=policy, path=request.path, count_play=not is_continuation(request)
        )
    except AudioUnavailable as exc:
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": exc.message, "code": exc.code}, status=exc.status)
        else:
            response = HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
        if exc.status == 503:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    return audio_response(request, audio)
