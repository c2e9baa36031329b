"""Reads of the audit screens: whose reads the access log shows (the provider's or the company's
own people's), days that are the company's days, and the statistics summed over lines with their
medians weighted by the calls answered."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django_tenants.utils import tenant_context

from answering.models import Line
from audit.models import LineDayStats
from audit.selectors import (
    PERSON_TASK,
    READER_ALL,
    READER_COMPANY,
    READER_PROVIDER,
    AccessLogFilter,
    access_log_base,
    access_log_list,
    access_log_people,
    analytics_series,
    day_bounds,
    field_labels,
    record_type_label,
)

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


def test_a_day_is_the_companys_day(acme):
    with tenant_context(acme):
        start, end = day_bounds(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2))
    assert (start, end) == (dt.datetime(2026, 3, 2, tzinfo=TALLINN), dt.datetime(2026, 3, 3, tzinfo=TALLINN))
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 3, 1, 22, 0, tzinfo=dt.UTC)
    with tenant_context(acme):
        assert day_bounds(date_from=None, date_to=None) == (None, None)


def test_the_readers_split_the_log_between_the_provider_and_the_company(acme, acme_log):
    with tenant_context(acme):
        provider = set(access_log_base(reader=READER_PROVIDER).values_list("pk", flat=True))
        company = set(access_log_base(reader=READER_COMPANY).values_list("pk", flat=True))
        everyone = set(access_log_base(reader=READER_ALL).values_list("pk", flat=True))
    ours = {name: entry.pk for name, entry in acme_log.items()}
    assert {ours["agent1"], ours["agent2"], ours["task"], ours["refused"]} <= provider
    assert ours["own"] in company
    assert provider.isdisjoint(company)
    assert provider | company == everyone


def test_the_person_filter_offers_each_reader_once_and_tasks_by_name(acme, acme_log, agent1):
    with tenant_context(acme):
        people = access_log_people(reader=READER_PROVIDER)
        own = access_log_people(reader=READER_COMPANY)
    values = [value for value, _label in people]
    assert len(values) == len(set(values))
    assert (str(agent1.pk), "agent1 (Agent)") in people
    assert people[-1] == (PERSON_TASK, "(automatic task)")
    assert (str(acme_log["own"].user_id), "acme-admin (your company)") in own


def test_the_task_person_means_entries_without_a_person(acme, acme_log):
    with tenant_context(acme):
        rows = list(access_log_list(filters=AccessLogFilter(person=PERSON_TASK, ordering="at")))
    assert rows
    assert {row.user_id for row in rows} == {None}
    assert acme_log["task"].pk in {row.pk for row in rows}


def test_record_types_and_fields_read_as_people_read_them():
    assert record_type_label("answering.Call") == "Call"
    assert record_type_label("tenants.ClientCompany") == "Client company"  # from the model's own name
    assert record_type_label("gone.Model") == "gone.Model"
    assert field_labels("answering.Call", ["caller_number", "no_longer_a_field"]) == [
        "caller number",
        "no_longer_a_field",
    ]
    assert field_labels("gone.Model", ["x"]) == ["x"]


def test_the_statistics_sum_the_lines_and_weigh_their_medians_by_calls_answered(acme):
    day = dt.date(2021, 5, 4)  # long before the demo's own statistics
    with tenant_context(acme):
        reception = Line.objects.get(phone_number="+3726001001")
        emergencies = Line.objects.get(phone_number="+3726001002")
        LineDayStats.objects.create(line=reception, day=day, offered=6, answered=3, answer_p50_seconds=10)
        LineDayStats.objects.create(line=emergencies, day=day, offered=2, answered=1, answer_p50_seconds=50)
        LineDayStats.objects.create(line=emergencies, day=day + dt.timedelta(days=1), offered=4, answered=0)
        series = analytics_series(date_from=day, date_to=day + dt.timedelta(days=2))
        only_emergencies = analytics_series(date_from=day, date_to=day, line_id=emergencies.pk)
    first, second, third = series
    assert (first.offered, first.answered, first.abandoned_share) == (8, 4, 0.0)
    assert first.answer_p50_seconds == pytest.approx((10 * 3 + 50 * 1) / 4)
    assert (second.has_data, second.offered, second.answer_p50_seconds) == (True, 4, None)  # nothing answered
    assert (third.has_data, third.offered, third.abandoned_share) == (False, 0, None)
    assert only_emergencies[0].answer_p50_seconds == pytest.approx(50)
