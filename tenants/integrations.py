"""The outbound integrations: every way a company's data leaves the platform for a third party.

Each one is declared here, once, and the code that sends names its declaration: which sub-processor
it is (its name as the DPAs'
sub-processor records spell it, and the country it processes in, both from the settings, since they
depend on the deployment), the service a DPA engages it for, and the data categories it may
receive. Before any send, `gates.outbound.outbound_check` asks whether the DPA in force for the
company authorises exactly that; this module only says what each integration is.

Webhooks to the client company's own endpoints are not here: they reach the controller itself,
with no provider in between, and keep their URL rules (answering/webhooks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from tenants.categories import validate_category

# What a DPA's sub-processor record can engage a provider for (`SubProcessor.services`).
SERVICES: dict[str, str] = {
    "voice": "Telephony: calls, forwarding, voicemail recording and transcription",
    "sms": "SMS",
    "email": "E-mail",
    "storage": "Object storage for audio files",
    "transcription": "Transcription of recordings",
}

# The European Economic Area, by ISO 3166 code: a DPA that allows "EEA" (or "EU") allows each.
EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
EEA = EU | {"IS", "LI", "NO"}
REGION_GROUPS = {"EEA": EEA, "EU": EU}


def region_allowed(region: str, allowed) -> bool:
    """Is `region` (a country code) one of `allowed` (country codes, or the groups EEA and EU)?"""
    region = (region or "").strip().upper()
    if not region:
        return False
    for entry in allowed:
        entry = entry.strip().upper()
        if entry == region or region in REGION_GROUPS.get(entry, ()):
            return True
    return False


@dataclass(frozen=True)
class Integration:
    """One outbound integration. `name_setting` and `region_setting` name the settings that say who
    the provider is, so that a deployment (or a test) can change them without touching code."""

    key: str
    label: str
    service: str
    name_setting: str
    region_setting: str
    categories: frozenset[str]

    @property
    def sub_processor(self) -> str:
        return str(getattr(settings, self.name_setting, "") or "").strip()

    @property
    def region(self) -> str:
        return str(getattr(settings, self.region_setting, "") or "").strip().upper()


INTEGRATIONS: dict[str, Integration] = {}


def integration_declare(
    *, key: str, label: str, service: str, name_setting: str, region_setting: str, categories
) -> Integration:
    """Declare an outbound integration once, where its code lives; returns it for that code's use."""
    if service not in SERVICES:
        raise ValueError(f"integration {key!r}: {service!r} is not one of {sorted(SERVICES)}")
    integration = Integration(
        key=key,
        label=label,
        service=service,
        name_setting=name_setting,
        region_setting=region_setting,
        categories=frozenset(validate_category(c) for c in categories),
    )
    INTEGRATIONS[key] = integration
    return integration


def integrations() -> list[Integration]:
    """Every declared integration, by key."""
    return [INTEGRATIONS[key] for key in sorted(INTEGRATIONS)]


# SMS through Twilio's REST API (tenants/sms.py): the recipient's number, and what the client chose
# to put in the text (a message's caller and body, an appointment's time).
TWILIO_SMS = integration_declare(
    key="twilio_sms",
    label="SMS (Twilio)",
    service="sms",
    name_setting="TWILIO_SUBPROCESSOR",
    region_setting="TWILIO_REGION",
    categories={"user.contact.name", "user.contact.phone_number", "user.content.private", "user.schedule"},
)
# Twilio's voice side (answering/telephony.py): what our TwiML hands it beyond the call it already
# carries: a number to forward to, and a voicemail to record and transcribe.
TWILIO_VOICE = integration_declare(
    key="twilio_voice",
    label="Telephony (Twilio voice)",
    service="voice",
    name_setting="TWILIO_SUBPROCESSOR",
    region_setting="TWILIO_REGION",
    categories={"user.contact.phone_number", "user.biometrics.voice", "user.content.private"},
)
# E-mail through whatever provider EMAIL_URL names (Django's mail backend): message deliveries,
# escalation notices and reminders to the company's own addresses and its customers'.
EMAIL = integration_declare(
    key="email",
    label="E-mail (the provider behind EMAIL_URL)",
    service="email",
    name_setting="EMAIL_SUBPROCESSOR",
    region_setting="EMAIL_REGION",
    categories={
        "user.contact.name",
        "user.contact.phone_number",
        "user.contact.email",
        "user.content.private",
        "user.schedule",
    },
)
