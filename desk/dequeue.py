"""Taking the caller out of Twilio's queue the moment an agent accepts.

A caller waits in Twilio's `<Enqueue>`, whose hold loop (the waitUrl) is requested again each time
its TwiML ends, about every five seconds. Left to the loop, the caller would hear the hold message
for up to that long after the agent accepted. Instead, accepting sends Twilio's "Update a Queue
Member" request (POST Queues/{QueueSid}/Members/{CallSid}.json with `Url` and `Method`): Twilio
dequeues the caller and has their call run the TwiML at `Url`, the Enqueue's own action URL, which
puts them through to the agent's softphone (answering/telephony.py `queue_result`).

The request is made after the accepting transaction commits, on a small pool of threads, so that
the accept neither holds its row locks over a network request nor waits for Twilio. It carries
ids and a URL on the company's host, no personal data, so no sub-processor check applies. A failure
only logs: the queued call is connected, and the hold loop's next request answers `<Leave>`, so the
caller still reaches the agent, a few seconds later.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings

from tenants.sms import TwilioError, twilio_rest

logger = logging.getLogger(__name__)
REST_TIMEOUT_SECONDS = 3
QUEUE_SID = re.compile(r"^QU[0-9a-f]{32}$")
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dequeue")


def queue_member_valid(*, queue_sid: str, call_sid: str) -> bool:
    """Are these ids Twilio's (a queue's QU… and a call's CA… sid), fit for a REST path?"""
    return bool(QUEUE_SID.match(queue_sid or "") and CALL_SID.match(call_sid or ""))


def queue_member_dequeue(*, queued_id: int, queue_sid: str, call_sid: str, url: str) -> str:
    """Dequeue the caller now: Twilio's Update a Queue Member. Returns '' when Twilio took it, or
    why not (scrubbed of numbers); never raises, since the hold loop's <Leave> is the fallback."""
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        return "Twilio is not configured"
    if not queue_member_valid(queue_sid=queue_sid, call_sid=call_sid):
        return "no queue member to dequeue"
    try:
        twilio_rest(
            "POST",
            f"Queues/{queue_sid}/Members/{call_sid}.json",
            {"Url": url, "Method": "POST"},
            timeout=REST_TIMEOUT_SECONDS,
            refused="Twilio refused the dequeue:",
        )
    except TwilioError as exc:
        logger.warning("queued call %s: not dequeued at once, the hold loop will leave: %s", queued_id, exc)
        return str(exc)
    return ""


def queue_member_dequeue_soon(*, queued_id: int, queue_sid: str, call_sid: str, url: str) -> Future:
    """`queue_member_dequeue` on the pool, off the request that accepted; returns its future."""
    return _pool.submit(queue_member_dequeue, queued_id=queued_id, queue_sid=queue_sid, call_sid=call_sid, url=url)
