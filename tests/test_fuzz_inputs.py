"""Fuzzed input never gets a 5xx: signed telephony webhooks, and the filter parameters of the portal's
pages and the API's lists.

Hypothesis draws the parameters: any text (NUL bytes, control and non-ASCII characters included),
dates from year 1 to 9999, datetimes at the zones' extremes, huge and negative numbers, the ids
that exist, and parameters nobody expects. Every filter run also tries, first, each of its date
and time parameters at the calendar's two ends. Webhooks are signed with the account's auth token
as the provider signs them, so they reach the handlers rather than the signature check, and no
refused or failed webhook may leave a file that no row names. Each example runs in a savepoint
that is rolled back, so the examples do not pile up rows.

The budget is fixed and the run repeatable, for CI: `derandomize=True` (the examples follow from
the test's source), no example database, a bounded number of examples and no deadline.
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
import zoneinfo

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from answering.models import Call, Disposition, Line, Message, Recording, Voicemail
from answering.selectors import CALL_ORDERINGS, MESSAGE_ORDERINGS, VOICEMAIL_ORDERINGS
from answering.simulator import RecordingMediaServer, new_sid, sign, tone_wav
from audit.models import AccessLogEntry, DataSubjectRequest
from audit.selectors import ACCESS_LOG_ORDERINGS, READERS
from scheduling.models import Resource, Service

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"
RECEPTION = "+3726001001"


def budget(examples: int):
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def rolled_back(request):
    """Make one request in a savepoint that is rolled back afterwards; returns its response."""
    with transaction.atomic():
        response = request()
        transaction.set_rollback(True)
    return response


def assert_no_5xx(response, what: str):
    assert response.status_code < 500, f"{what} answered {response.status_code}: {response.content[:300]!r}"


# ---- values ----------------------------------------------------------------------------------

EDGE_ZONES = [dt.UTC, zoneinfo.ZoneInfo("Pacific/Kiritimati"), zoneinfo.ZoneInfo("Etc/GMT+12")]
anything = st.text(max_size=40)  # every code point but surrogates: NUL and control characters too
long_text = st.text(min_size=60, max_size=120)
numbers = st.integers(min_value=-(2**70), max_value=2**70).map(str)
words = st.sampled_from(["", "0", "1", "-1", "true", "None", "task", "provider", "all", "%", "-at", "-started_at"])
# A date or time parameter is one of the calendar's ends half the time: adding a day, a week or a
# UTC offset overflows there. The other half is any date or time, or anything at all.
EDGE_DATES = ["9999-12-31", "0001-01-01"]
EDGE_DATETIMES = ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00"]
edge_dates, edge_datetimes = st.sampled_from(EDGE_DATES), st.sampled_from(EDGE_DATETIMES)
dates = st.dates().map(dt.date.isoformat)
datetimes = st.datetimes(timezones=st.sampled_from(EDGE_ZONES)).map(dt.datetime.isoformat)
DATE_PARAMS = {"date_from", "date_to", "date", "week"}
DATETIME_PARAMS = {"starts_after", "starts_before", "start", "end"}
ID_PARAMS = {"line", "resource", "service", "person"}
# Values the filters accept, so that a bad value is often the only bad one and reaches the code
# behind the form.
VALID = {
    "status": [*Message.Status.values, *Call.Status.values, *DataSubjectRequest.Status.values],
    "urgency": Message.Urgency.values,
    "disposition": Disposition.values,
    "agent": ["agent1", "agent2"],
    "reader": [key for key, _ in READERS],
    "channel": AccessLogEntry.Channel.values,
    "outcome": ["shown", "refused"],
    "kind": DataSubjectRequest.Kind.values,
    "record_type": ["crm.Contact", "answering.Call"],
    "unheard": ["1", "true"],
    "ordering": sorted({*CALL_ORDERINGS, *MESSAGE_ORDERINGS, *VOICEMAIL_ORDERINGS, *ACCESS_LOG_ORDERINGS}),
    "page": ["1", "2", "last"],
    "limit": ["1", "500"],
    "offset": ["0", "50"],
    "q": ["+37251234501", "Mari Maasikas"],
}


def value_for(name: str, ids: list[int]) -> st.SearchStrategy[str]:
    """A parameter's value: of its own kind half the time (the calendar's ends for a date, an id
    that exists for an id, a value the filter accepts), else any date or time, or anything."""
    if name in DATE_PARAMS:
        return st.one_of(edge_dates, st.one_of(dates, anything))
    if name in DATETIME_PARAMS:
        return st.one_of(edge_datetimes, st.one_of(datetimes, anything))
    own = st.sampled_from(ids).map(str) if name in ID_PARAMS else st.sampled_from(VALID.get(name, [""]))
    return st.one_of(own, st.one_of(anything, numbers, words, edge_dates))


def queries(names: list[str], ids: list[int]) -> st.SearchStrategy[dict[str, str]]:
    """Query strings of a page or list: a few of its own parameters (pagination included), and
    sometimes one nobody expects."""
    own = st.lists(st.sampled_from([*names, "page", "limit", "offset", "ordering"]), max_size=3, unique=True)
    chosen = own.flatmap(lambda keys: st.fixed_dictionaries({key: value_for(key, ids) for key in keys}))
    stranger = st.dictionaries(st.text(max_size=8), anything, max_size=1)
    return st.tuples(chosen, stranger).map(lambda both: {**both[1], **both[0]})


@pytest.fixture
def acme_ids(acme) -> list[int]:
    """Ids that exist in acme (lines, services, resources), so filters also match real rows."""
    with tenant_context(acme):
        return sorted(
            {
                *Line.objects.values_list("pk", flat=True),
                *Service.objects.values_list("pk", flat=True),
                *Resource.objects.values_list("pk", flat=True),
            }
        )


# ---- the portal's and the API's filters -----------------------------------------------------

PORTAL_PAGES = {
    "/": ["seen"],
    "/today/panel/": ["seen"],
    "/messages/": ["status", "urgency", "line"],
    "/calls/": ["line", "date_from", "date_to", "disposition", "agent"],
    "/voicemail/": ["line", "unheard"],
    "/contacts/": ["q"],
    "/access-log/": ["reader", "person", "record_type", "channel", "date_from", "date_to", "outcome"],
    "/access-log/export.csv": ["reader", "person", "record_type", "channel", "date_from", "date_to", "outcome"],
    "/data-requests/": ["kind", "status"],
    "/analytics/": ["date_from", "date_to", "line"],
    "/analytics/export.csv": ["date_from", "date_to", "line"],
    "/appointments/": ["week", "resource"],
    "/appointments/free-times/": ["service", "resource", "date"],
}
API_LISTS = {
    "lines/": [],
    "messages/": ["status", "urgency", "line"],
    "calls/": ["line", "date_from", "date_to", "disposition", "status", "agent"],
    "voicemail/": ["line", "unheard"],
    "appointments/": ["starts_after", "starts_before", "resource", "status"],
    "services/": [],
    "resources/": [],
    "slots/": ["service", "resource", "start", "end"],
    "contacts/": ["q"],
    "access-log/": ["reader", "person", "record_type", "channel", "date_from", "date_to", "outcome"],
    "data-subject-requests/": ["kind", "status"],
    "analytics/line-days/": ["date_from", "date_to", "line"],
    "team/": [],
    "tokens/": [],
    "webhooks/": [],
    "agreement/versions/": [],
    "sub-processors/": [],
}


def with_calendar_ends(test, names: list[str]):
    """Add the examples every run tries first, whatever it draws: each date and time parameter of the
    page at the calendar's last day, then at its first (where issue 18 found 500s)."""
    for last_day, last_time in zip(EDGE_DATES, EDGE_DATETIMES, strict=True):
        values = {name: last_day for name in names if name in DATE_PARAMS}
        values |= {name: last_time for name in names if name in DATETIME_PARAMS}
        if values:
            test = example(values)(test)
    return test


@pytest.mark.parametrize("path", sorted(PORTAL_PAGES))
def test_fuzzed_portal_filters_never_get_a_5xx(client_for, acme_admin, acme_ids, path):
    client = client_for(HOST, acme_admin)

    def probe(query):
        assert_no_5xx(rolled_back(lambda: client.get(path, query)), f"GET {path} {query!r}")

    budget(15)(with_calendar_ends(given(queries(PORTAL_PAGES[path], acme_ids))(probe), PORTAL_PAGES[path]))()


@pytest.mark.parametrize("path", sorted(API_LISTS))
def test_fuzzed_api_filters_never_get_a_5xx(client_for, acme_admin, acme_ids, path):
    client = client_for(HOST, acme_admin)

    def probe(query):
        assert_no_5xx(rolled_back(lambda: client.get(f"/api/v1/{path}", query)), f"GET /api/v1/{path} {query!r}")

    with override_settings(API_RATE_LIMIT="100000/min"):  # rate limits have tests of their own
        budget(10)(with_calendar_ends(given(queries(API_LISTS[path], acme_ids))(probe), API_LISTS[path]))()


# ---- signed telephony webhooks ---------------------------------------------------------------

ENDPOINTS = ["voice", "consent", "status", "recording", "transcription", "sms-status"]
STATUSES = ["ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled", "delivered", "absent"]


def webhook_params(call_sid: str, media_url: str) -> st.SearchStrategy[dict[str, str]]:
    """The parameters a provider sends, each either plausible or anything at all, plus strangers."""
    sids = st.one_of(st.just(call_sid), st.builds(new_sid, st.sampled_from(["CA", "RE", "SM"])), anything, long_text)
    durations = st.one_of(st.integers(min_value=-10, max_value=10**12).map(str), anything)
    plausible = {
        "CallSid": sids,
        "AccountSid": st.one_of(st.just("AC" + "0" * 32), anything),
        "From": st.one_of(st.just("+37251234501"), anything, long_text),
        "To": st.one_of(st.sampled_from([RECEPTION, "+3726009999"]), anything, long_text),
        "CallStatus": st.one_of(st.sampled_from(STATUSES), anything),
        "CallDuration": durations,
        "Digits": st.one_of(st.sampled_from(["1", "2", ""]), anything),
        "RecordingSid": sids,
        "RecordingUrl": st.one_of(st.just(media_url), anything.filter(lambda url: not url.startswith("http"))),
        "RecordingStatus": st.one_of(st.just("completed"), anything),
        "RecordingDuration": durations,
        "TranscriptionText": st.one_of(anything, st.text(max_size=300)),
        "TranscriptionStatus": st.one_of(st.just("completed"), anything),
        "MessageSid": sids,
        "MessageStatus": st.one_of(st.sampled_from(STATUSES), anything),
    }
    known = st.fixed_dictionaries({}, optional=plausible)
    strangers = st.dictionaries(st.text(max_size=12), anything, max_size=2)
    return st.tuples(known, strangers).map(lambda both: {**both[1], **both[0]})


def stored_files() -> set[str]:
    root = settings.MEDIA_ROOT
    return {os.path.relpath(os.path.join(top, name), root) for top, _, names in os.walk(root) for name in names}


def test_fuzzed_signed_webhooks_never_get_a_5xx_nor_leave_an_orphan_file(acme, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    client = Client(HTTP_HOST=HOST)
    call_sid = new_sid("CA")
    with tenant_context(acme):  # a call the callbacks can refer to
        line = Line.objects.get(phone_number=RECEPTION)
        Call.objects.create(telephony_sid=call_sid, line=line, started_at=timezone.now())
    media = RecordingMediaServer(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN)
    _, media_url = media.add(tone_wav(0.1))  # a recording that can be fetched, so some are stored

    @budget(150)
    @given(st.sampled_from(ENDPOINTS), webhook_params(call_sid, media_url))
    def probe(endpoint, params):
        path = f"/telephony/{endpoint}/"
        signature = sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=f"http://{HOST}{path}", params=params)
        before = stored_files()
        with transaction.atomic():
            response = client.post(
                path,
                urllib.parse.urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=signature,
            )
            with tenant_context(acme):
                kept = {*Voicemail.objects.values_list("audio", flat=True)}
                kept |= {*Recording.objects.values_list("audio", flat=True)}
            transaction.set_rollback(True)
        what = f"POST {path} {params!r}"
        assert_no_5xx(response, what)
        assert response.status_code != 403, f"{what}: the signature did not match what the server read"
        new = stored_files() - before
        assert new <= kept, f"{what} left files no row names: {new - kept}"
        for name in new:
            os.unlink(os.path.join(settings.MEDIA_ROOT, name))  # their rows were rolled back

    with media:
        probe()
