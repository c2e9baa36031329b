"""Text from outside services, made safe to store, log and show: no phone numbers, no addresses.

An SMS provider that refuses a message quotes the number ("The 'To' number +3725... is not a valid
phone number"), an SMTP server quotes the address it rejects, a webhook receiver may echo the whole
payload. Such a text is personal data (DESIGN.md: "derived values are personal too"), but it lands
in plaintext `error` columns, alert e-mails and logs, read by operators who need the *reason* and
the provider's code, never the person. So every such text passes `provider_text_scrub` before it is
stored or logged, rather than being stored encrypted: an encrypted error would hide the reason from
the operator who must act on it, and the scrubbed one keeps it.

The rules, in order:
1. whitespace (newlines included) collapses to single spaces: one line, for logs too;
2. a URL keeps its scheme, host and path; credentials (`user:pass@`) and its query and fragment
   become `[query]`;
3. an e-mail address (also `%40`-encoded) becomes `[address]`;
4. a phone number becomes `[number]`: any run of 6 or more digits, with or without a leading `+`,
   with up to two separators (spaces, dashes, dots, slashes, parentheses) between digits, so E.164
   (`+37251234501`), local forms (`5123 4501`, `(555) 123-4567`, `+44 (0)20 7946 0958`) and other
   identifiers (personal codes, account numbers). Shorter runs stay: provider codes (Twilio 21211),
   HTTP statuses and ports remain for the operator to act on, and so does an SMTP status standing
   alone (`550 5.1.1`). Local forms shorter than six digits (a few island territories) do survive;

5. the result is cut to `limit` characters (the column's length), after scrubbing, so that a cut
   can never leave half a number behind.

For exceptions it knows, it keeps the codes in a fixed shape and drops what only the other side
wrote: an HTTP error is its status and standard phrase only (`HTTP 500 Internal Server Error`), never
the server's own reason or body, which may echo the payload; an SMTP refusal is `SMTP <code>` and
the server's text, scrubbed (one per distinct refusal of the recipients).
"""

from __future__ import annotations

import http
import re
import smtplib
import urllib.error

NUMBER = "[number]"
ADDRESS = "[address]"
QUERY = "[query]"
MIN_DIGITS = 6

_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<credentials>[^\s/?#@]*@)?(?P<rest>[^\s?#]*)(?P<query>[?#]\S*)?", re.I
)
_EMAIL = re.compile(r"[\w.!#$%&'*+=^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*")
# A digit, then digits each after at most two separators; an optional leading "+" or "(".
_SEP = r"[\s\-./()\u2010-\u2015]"
_DIGITS = re.compile(rf"\+?\(?\d(?:{_SEP}{{0,2}}\d)*")
# An SMTP status standing alone: a reply code, an enhanced status (RFC 3463 class.subject.detail),
# or both ("550 5.1.1"). Kept only when no digit is within two separators of it on either side, so
# it can never be part of a longer number.
SMTP_STATUS = re.compile(
    rf"(?<![\d.])(?<!\d{_SEP})(?<!\d{_SEP}{_SEP})"
    r"(?:[245]\d\d[ -])?[245]\.\d\.\d{1,3}"
    rf"(?![\d.])(?!{_SEP}{{1,2}}\d)"
)


def _url(match: re.Match) -> str:
    cut = match.group("query") or match.group("credentials")
    return f"{match.group('scheme')}{match.group('rest')}{'?' + QUERY if cut else ''}"


def _digits(match: re.Match) -> str:
    found = match.group(0)
    return NUMBER if sum(c.isdecimal() for c in found) >= MIN_DIGITS else found


def _numbers(text: str) -> str:
    kept, parts, start = SMTP_STATUS.finditer(text), [], 0
    for code in kept:
        parts.extend([_DIGITS.sub(_digits, text[start : code.start()]), code.group(0)])
        start = code.end()
    parts.append(_DIGITS.sub(_digits, text[start:]))
    return "".join(parts)


def _text(text: str) -> str:
    text = " ".join(text.split())
    text = _URL.sub(_url, text)
    text = _EMAIL.sub(ADDRESS, text)
    return _numbers(text)


def _exception_text(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            return f"HTTP {exc.code} {http.HTTPStatus(exc.code).phrase}"
        except ValueError:
            return f"HTTP {exc.code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = {_smtp(code, reply) for code, reply in exc.recipients.values()}
        return "; ".join(sorted(refusals))
    if isinstance(exc, smtplib.SMTPResponseException):
        return _smtp(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable: {exc.reason}"
    return str(exc) or type(exc).__name__


def _smtp(code: int, reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"SMTP {code} {_text(reply)}"


def provider_text_scrub(text: str | BaseException, *, limit: int = 300) -> str:
    """The text (or the exception's text) with no numbers, addresses or URL queries, at most
    `limit` characters long."""
    raw = _exception_text(text) if isinstance(text, BaseException) else str(text)
    scrubbed = _text(raw)
    if len(scrubbed) > limit:
        scrubbed = scrubbed[: limit - 1].rstrip() + "…"
    return scrubbed
