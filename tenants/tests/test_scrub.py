"""The scrubber of text from outside services (tenants/scrub.py): no number, no address survives;
the provider's codes do."""

from __future__ import annotations

import io
import re
import smtplib
import urllib.error

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tenants.scrub import ADDRESS, MIN_DIGITS, NUMBER, SMTP_STATUS, provider_text_scrub

SIX_DIGITS = re.compile(r"\d(?:[\s\-./()\u2010-\u2015]{0,2}\d){5}")


def _no_number_left(scrubbed: str) -> bool:
    """No run of six digits is left, however spaced, but for an SMTP status standing alone."""
    return not SIX_DIGITS.search(SMTP_STATUS.sub("#", scrubbed))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Twilio refused the message: HTTP 400, error 21211: The 'To' number +37251234501 is not a valid phone "
            "number.",
            "Twilio refused the message: HTTP 400, error 21211: The 'To' number [number] is not a valid phone number.",
        ),
        ("call 5123 4501 now", "call [number] now"),
        ("(555) 123-4567", "[number]"),
        ("+44 (0)20 7946 0958", "[number]"),
        ("+372 5123-4501 or 0037251234501", "[number] or [number]"),
        ("06.12.34.56.78", "[number]"),
        ("isikukood 38001085718", "isikukood [number]"),
        (
            "550 5.1.1 <mari.tamm@example.ee>: Recipient address rejected",
            "550 5.1.1 <[address]>: Recipient address rejected",
        ),
        ("mailto:mari.tamm%40example.ee", "mailto:[address]"),
        ("https://u:p@hooks.example/in?caller=%2B37251234501#x tail", "https://hooks.example/in?[query] tail"),
        ("https://hooks.example/people/mari@example.ee", "https://hooks.example/people/[address]"),
        ("line one\n  line\ttwo", "line one line two"),
        ("port 8443, HTTP 503, code 30008, at 10:00:00", "port 8443, HTTP 503, code 30008, at 10:00:00"),
    ],
)
def test_numbers_addresses_and_queries_go_codes_stay(text, expected):
    assert provider_text_scrub(text) == expected


def test_the_result_fits_the_column_and_a_cut_never_halves_a_number():
    text = "x" * 290 + " +37251234501 " + "y" * 100
    scrubbed = provider_text_scrub(text, limit=300)
    assert len(scrubbed) <= 300
    assert scrubbed.endswith("…")
    assert "3725" not in scrubbed
    assert provider_text_scrub("short") == "short"


def test_known_exceptions_keep_their_codes_and_drop_what_the_other_side_wrote():
    refused = smtplib.SMTPRecipientsRefused(
        {"mari.tamm@example.ee": (550, b"5.1.1 <mari.tamm@example.ee>: Recipient address rejected")}
    )
    assert provider_text_scrub(refused) == "SMTP 550 5.1.1 <[address]>: Recipient address rejected"
    sender = smtplib.SMTPSenderRefused(553, b"5.7.1 <x@y.example>: Sender address rejected", "x@y.example")
    assert provider_text_scrub(sender) == "SMTP 553 5.7.1 <[address]>: Sender address rejected"
    echo = urllib.error.HTTPError("https://h.example/?n=1", 500, "Unknown caller +3725123", {}, io.BytesIO(b"+372"))
    assert provider_text_scrub(echo) == "HTTP 500 Internal Server Error"
    assert provider_text_scrub(urllib.error.HTTPError("u", 599, "x", {}, None)) == "HTTP 599"
    unreachable = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    assert provider_text_scrub(unreachable) == "unreachable: [Errno 111] Connection refused"
    assert provider_text_scrub(TimeoutError()) == "TimeoutError"


# ---- properties ------------------------------------------------------------------------------

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


@st.composite
def e164_numbers(draw) -> str:
    """Any E.164 number: a country code, then a subscriber part, 7 to 15 digits in all."""
    country = draw(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)))
    rest = draw(st.integers(min_value=max(1, 7 - len(str(country))), max_value=15 - len(str(country))))
    digits = draw(st.text(alphabet="0123456789", min_size=rest, max_size=rest))
    return f"+{country}{digits}"


@st.composite
def real_numbers(draw) -> phonenumbers.PhoneNumber:
    """A valid number of some region, from libphonenumber's own examples, with its last digits varied."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number(region)
    if example is None:
        example = phonenumbers.example_number_for_type("EE", phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    tail = draw(st.text(alphabet="0123456789", min_size=2, max_size=2))
    return phonenumbers.parse(f"+{example.country_code}{national[:-2]}{tail}")


@settings(max_examples=300, deadline=None)
@given(before=st.text(max_size=60), number=e164_numbers(), after=st.text(max_size=60))
def test_an_e164_number_in_any_text_never_survives(before, number, after):
    scrubbed = provider_text_scrub(f"{before}{number}{after}", limit=1000)
    assert number not in scrubbed
    assert number[1:] not in scrubbed
    assert _no_number_left(scrubbed)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(max_size=40),
    number=real_numbers(),
    style=st.sampled_from(FORMATS),
    after=st.text(max_size=40),
)
def test_a_real_number_in_any_of_its_written_forms_never_survives(before, number, style, after):
    written = phonenumbers.format_number(number, style)
    assume(sum(c.isdigit() for c in written) >= MIN_DIGITS)  # a few islands' local forms are shorter
    scrubbed = provider_text_scrub(f"{before} {written} {after}", limit=1000)
    assert written not in scrubbed
    assert str(number.national_number) not in scrubbed
    assert _no_number_left(scrubbed)


@settings(max_examples=200, deadline=None)
@given(
    local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
)
def test_an_address_in_any_text_never_survives(local, domain, before, after):
    address = f"{local}@{domain}"
    scrubbed = provider_text_scrub(f"{before} <{address}> {after}", limit=1000)
    assert address not in scrubbed
    assert ADDRESS in scrubbed or NUMBER in scrubbed


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=10, max_value=300))
def test_any_text_is_cut_to_the_limit_and_scrubbing_twice_changes_nothing(text, limit):
    once = provider_text_scrub(text, limit=limit)
    assert len(once) <= limit
    assert "\n" not in once
    if not once.endswith("…"):
        assert provider_text_scrub(once, limit=limit) == once
