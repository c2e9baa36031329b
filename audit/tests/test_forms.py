"""Input of the audit screens, shared by the portal and the API: each error names its field, and
good input becomes the filter, request or period the selectors and services expect."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.forms import (
    MAX_STATS_DAYS,
    AccessLogFilterForm,
    AnalyticsFilterForm,
    DsrFilterForm,
    DsrRaiseForm,
    stats_default_period,
)
from audit.selectors import READER_COMPANY, READER_PROVIDER, AccessLogFilter

pytestmark = pytest.mark.django_db


def _errors(form) -> set[str]:
    assert not form.is_valid()
    return set(form.errors)


# ---- the access-log filter ---------------------------------------------------------------------


def test_an_empty_access_log_filter_is_the_providers_reads_newest_first(acme):
    with tenant_context(acme):
        form = AccessLogFilterForm({})
        assert form.is_valid(), form.errors
        assert form.filters() == AccessLogFilter(reader=READER_PROVIDER, ordering="-at")


@pytest.mark.parametrize(("outcome", "refused"), [("shown", False), ("refused", True), ("", None)])
def test_the_outcome_becomes_the_refused_flag(acme, outcome, refused):
    with tenant_context(acme):
        form = AccessLogFilterForm({"reader": READER_COMPANY, "outcome": outcome, "ordering": "channel"})
        assert form.is_valid(), form.errors
        filters = form.filters()
    assert (filters.reader, filters.refused, filters.ordering) == (READER_COMPANY, refused, "channel")


def test_an_end_before_the_start_is_an_error_on_the_end_date(acme):
    with tenant_context(acme):
        form = AccessLogFilterForm({"date_from": "2026-03-05", "date_to": "2026-03-01"})
        assert _errors(form) == {"date_to"}


def test_an_unknown_reader_is_an_error_on_the_reader_and_not_a_crash(acme):
    with tenant_context(acme):
        assert _errors(AccessLogFilterForm({"reader": "the-neighbours"})) == {"reader"}


@pytest.mark.parametrize(("field", "value"), [("kind", "gossip"), ("status", "lost"), ("ordering", "name")])
def test_the_request_filter_refuses_values_it_does_not_offer(field, value):
    assert _errors(DsrFilterForm({field: value})) == {field}


# ---- raising a data-subject request ------------------------------------------------------------


def test_a_request_finds_the_person_by_a_normalised_number():
    form = DsrRaiseForm({"kind": "access", "phone_number": "+372 5559 1111"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone_number"] == "+37255591111"
    assert form.corrections() == {}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "access"}, "phone_number"),  # neither number nor address
        ({"kind": "access", "phone_number": "5551234"}, "phone_number"),  # no country code
        ({"kind": "access", "email": "not an address"}, "email"),
        ({"kind": "rectification", "email": "a@example.ee"}, "new_name"),  # nothing to correct
        ({"kind": "access", "email": "a@example.ee", "new_name": "Someone"}, "kind"),
        ({"kind": "erasure", "email": "a@example.ee"}, "confirm_erasure"),
        ({"kind": "rectification", "email": "a@example.ee", "new_phone_number": "12"}, "new_phone_number"),
    ],
)
def test_a_bad_request_names_its_field(data, field):
    assert field in _errors(DsrRaiseForm(data))


def test_a_bad_number_is_reported_once_not_also_as_missing():
    form = DsrRaiseForm({"kind": "access", "phone_number": "5551234"})
    assert not form.is_valid()
    assert len(form.errors["phone_number"]) == 1
    assert "country code" in form.errors["phone_number"][0]


def test_a_rectification_carries_its_corrections_trimmed_and_normalised():
    form = DsrRaiseForm(
        {
            "kind": "rectification",
            "phone_number": "+37255591111",
            "new_name": "  Mari Maasikas ",
            "new_phone_number": "+372 5559 2222",
            "new_address": "   ",
        }
    )
    assert form.is_valid(), form.errors
    assert form.corrections() == {"name": "Mari Maasikas", "phone_number": "+37255592222"}


def test_a_confirmed_erasure_is_valid():
    form = DsrRaiseForm({"kind": "erasure", "email": "a@example.ee", "confirm_erasure": "on"})
    assert form.is_valid(), form.errors


# ---- the statistics period ---------------------------------------------------------------------


def test_without_dates_the_period_is_the_last_30_closed_days_in_the_companys_zone(acme):
    yesterday = timezone.now().astimezone(zoneinfo.ZoneInfo(acme.time_zone)).date() - dt.timedelta(days=1)
    with tenant_context(acme):
        form = AnalyticsFilterForm({})
        assert form.is_valid(), form.errors
        assert stats_default_period() == (yesterday - dt.timedelta(days=29), yesterday)
    assert (form.cleaned_data["date_from"], form.cleaned_data["date_to"]) == (
        yesterday - dt.timedelta(days=29),
        yesterday,
    )


def test_a_start_alone_runs_to_yesterday_and_an_end_alone_starts_30_days_before(acme):
    with tenant_context(acme):
        yesterday = stats_default_period()[1]
        only_start = AnalyticsFilterForm({"date_from": str(yesterday - dt.timedelta(days=3))})
        only_end = AnalyticsFilterForm({"date_to": "2026-04-30"})
        assert only_start.is_valid(), only_start.errors
        assert only_end.is_valid(), only_end.errors
    assert only_start.cleaned_data["date_to"] == yesterday
    assert only_end.cleaned_data["date_from"] == dt.date(2026, 4, 1)


def test_a_period_longer_than_the_limit_is_an_error_on_its_start(acme):
    end = dt.date(2026, 4, 30)
    with tenant_context(acme):
        longest = AnalyticsFilterForm({"date_from": str(end - dt.timedelta(days=MAX_STATS_DAYS - 1)), "date_to": end})
        too_long = AnalyticsFilterForm({"date_from": str(end - dt.timedelta(days=MAX_STATS_DAYS)), "date_to": end})
        assert longest.is_valid(), longest.errors
        assert _errors(too_long) == {"date_from"}


def test_a_start_after_the_end_is_an_error_on_the_end_date(acme):
    with tenant_context(acme):
        assert _errors(AnalyticsFilterForm({"date_from": "2026-04-15", "date_to": "2026-04-01"})) == {"date_to"}


def test_the_line_filter_offers_the_companys_lines_by_name_and_nothing_else(acme):
    from answering.models import Line

    with tenant_context(acme):
        names = sorted(Line.objects.values_list("name", flat=True))
        form = AnalyticsFilterForm({"line": Line.objects.order_by("-pk").first().pk + 1000})
        assert [line.name for line in form.fields["line"].queryset] == names
        assert _errors(form) == {"line"}
