"""The rollup's figures on calls with known answers (levels/tests/conftest.py), worked out by hand,
in the company's zone, across both DST changes; and no personal data in the rollup rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from gates.context import system_context
from levels.models import LineHourLevels
from levels.rollup import levels_rollup
from levels.selectors import levels_by_day, levels_by_hour, levels_list, levels_total
from levels.tests.conftest import BACK, FORWARD, at

pytestmark = pytest.mark.django_db


def _rollup(company, day_from, day_to=None):
    with tenant_context(company), system_context(reason="test rollup"):
        return levels_rollup(date_from=day_from, date_to=day_to or day_from)


def test_the_day_the_clocks_go_back_is_counted_by_hand(acme, dst_calls):
    _rollup(acme, BACK - dt.timedelta(days=1), BACK)
    with tenant_context(acme):
        day = levels_total(levels_list(date_from=BACK, date_to=BACK, line_id=dst_calls.pk))
    # 25 October (local) holds calls 1 to 7; call 8 (23:59:30 on the 24th) does not.
    assert day.offered == 7
    assert day.answered == 4  # 1, 2, 5, 7
    # ASA: waits 10 + 30 + 20 + 5 = 65 s over 4 answered = 16.25 s
    assert day.asa_seconds == pytest.approx(16.25)
    # Within the 20 s target: 1 (10 s), 5 (20 s, on the target counts), 7 (5 s); not 2 (30 s).
    assert day.answered_in_target == 3
    # Short abandons: call 3 (3 s < 5 s); long: call 4 (45 s); call 6 overflowed, not abandoned.
    assert (day.abandoned_short, day.abandoned_long, day.overflowed) == (1, 1, 1)
    # Service level: 3 in target / (7 offered - 1 short abandon) = 3/6 = 0.5
    assert day.service_level == pytest.approx(0.5)
    # Abandon rate: 1 long abandon / 6 = 0.1667
    assert day.abandon_rate == pytest.approx(1 / 6)
    # Handle time: talk 120 + 90 + 60 + 60 = 330 s, wrap-up 30 + 0 + 45 + 0 = 75 s (agent1's 60 s
    # on a globex call is not acme's), over 4 handled: 405 / 4 = 101.25 s; wrap-up 75 / 4 = 18.75 s
    assert day.handled == 4
    assert day.talk_seconds == pytest.approx(330)
    assert day.wrap_seconds == pytest.approx(75)
    assert day.handle_seconds == pytest.approx(101.25)
    assert day.wrap_avg_seconds == pytest.approx(18.75)
    assert day.transfers == 1


def test_the_hour_that_happens_twice_is_two_rows(acme, dst_calls):
    _rollup(acme, BACK)
    with tenant_context(acme):
        rows = list(LineHourLevels.objects.filter(day=BACK).order_by("hour_start"))
        hours = dict(levels_by_hour(day=BACK, line_id=dst_calls.pk))
    assert [(r.hour, r.utc_offset_minutes, r.hour_start) for r in rows] == [
        (0, 180, at("2026-10-24 21:00:00")),  # call 7
        (3, 180, at("2026-10-25 00:00:00")),  # calls 1-4, summer time
        (3, 120, at("2026-10-25 01:00:00")),  # calls 5-6, winter time
    ]
    first, second = hours["03:00 (+03:00)"], hours["03:00 (+02:00)"]
    # First 03:00: 4 offered, 2 answered, waits 10 + 30 = 40 s, ASA 20 s; 1 in target (call 1),
    # counted 4 - 1 short = 3, so service level 1/3 and abandon rate 1/3 (call 4).
    assert (first.offered, first.answered, first.asa_seconds) == (4, 2, 20)
    assert first.service_level == pytest.approx(1 / 3)
    assert first.abandon_rate == pytest.approx(1 / 3)
    # Second 03:00: 2 offered, 1 answered in 20 s (in target), 1 overflowed: service level 1/2.
    assert (second.offered, second.answered, second.overflowed, second.asa_seconds) == (2, 1, 1, 20)
    assert second.service_level == pytest.approx(0.5)
    assert hours["00:00"].offered == 1


def test_the_day_before_is_its_own_local_day(acme, dst_calls):
    _rollup(acme, BACK - dt.timedelta(days=1), BACK)
    with tenant_context(acme):
        days = dict(levels_by_day(date_from=BACK - dt.timedelta(days=1), date_to=BACK, line_id=dst_calls.pk))
    before = days[BACK - dt.timedelta(days=1)]
    # Call 8 only: 20:59:30 UTC is 23:59:30 in Tallinn (+03:00). Answered in 40 s, over the target.
    assert (before.offered, before.answered, before.asa_seconds, before.service_level) == (1, 1, 40, 0)
    assert before.handle_seconds == pytest.approx(100)  # talk 100 s, no wrap-up


def test_the_hour_that_does_not_happen_has_no_row(acme):
    from answering.models import Call, Line

    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        # 29 March 2026: 00:59:59 UTC is 02:59:59 EET; one second later it is 04:00:00 EEST.
        for n, started in enumerate(["2026-03-29 00:59:59", "2026-03-29 01:00:00"]):
            Call.objects.create(
                line=line,
                telephony_sid=f"CAforward{n}".ljust(34, "0"),
                started_at=at(started),
                answered_at=at(started) + dt.timedelta(seconds=4),
                ended_at=at(started) + dt.timedelta(seconds=64),
            )
    _rollup(acme, FORWARD)
    with tenant_context(acme):
        rows = list(LineHourLevels.objects.filter(day=FORWARD, line=line).order_by("hour_start"))
    assert [(r.hour, r.utc_offset_minutes, r.offered) for r in rows] == [(2, 120, 1), (4, 180, 1)]


def test_a_recomputation_replaces_the_range_and_leaves_the_rest(acme, dst_calls):
    from answering.models import Call

    _rollup(acme, BACK - dt.timedelta(days=1), BACK)
    with tenant_context(acme):
        Call.objects.filter(telephony_sid__startswith="CAlevels4").update(answered_at=at("2026-10-25 00:40:02"))
        before = LineHourLevels.objects.get(day=BACK - dt.timedelta(days=1)).computed_at
    _rollup(acme, BACK)
    with tenant_context(acme):
        day = levels_total(levels_list(date_from=BACK, date_to=BACK))
        assert LineHourLevels.objects.get(day=BACK - dt.timedelta(days=1)).computed_at == before
    assert (day.answered, day.abandoned_long, day.answered_in_target) == (5, 0, 4)


def test_the_command_recomputes_a_range_with_progress(acme, dst_calls, capsys):
    call_command("levels_rollup", "--from", "2026-10-24", "--to", "2026-10-25", "--tenant", "acme")
    out = capsys.readouterr().out
    assert "[1/1] acme (Europe/Tallinn):" in out
    assert "4 line-hours written" in out  # 24th: 23:00; 25th: 00:00, 03:00 twice
    with tenant_context(acme):
        assert LineHourLevels.objects.count() == 4


def test_the_command_names_a_bad_date_or_tenant(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("levels_rollup", "--from", "2026-13-01", "--to", "2026-10-25")
    with pytest.raises(CommandError, match="no active client company 'nobody'"):
        call_command("levels_rollup", "--from", "2026-10-01", "--to", "2026-10-25", "--tenant", "nobody")
    with pytest.raises(CommandError, match="--from is after --to"):
        call_command("levels_rollup", "--from", "2026-10-26", "--to", "2026-10-25")


def test_the_rollup_refuses_outside_a_named_context(acme):
    from gates.context import GateContextMissing, cleared

    with tenant_context(acme), cleared("task"), pytest.raises(GateContextMissing):
        levels_rollup(date_from=BACK, date_to=BACK)


def test_the_rollup_rows_hold_no_personal_data(acme, dst_calls):
    from answering.models import Call

    _rollup(acme, BACK - dt.timedelta(days=1), BACK)
    with tenant_context(acme):
        pseudonyms = [p for p in Call.objects.values_list("caller_pseudonym", flat=True) if p]
        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(r)::text FROM levels_linehourlevels r")
            text = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'levels_linehourlevels'",
                [acme.schema_name],
            )
            columns = {row[0] for row in cursor.fetchall()}
    assert text.count('"offered"') == 4
    assert pseudonyms
    assert not any(p in text for p in pseudonyms)
    for value in ("Level Person", "+3725559", "5559000", "agent1", "agent2"):
        assert value not in text
    assert not columns & {"caller_number", "caller_name", "caller_pseudonym", "agent_id", "user_id", "notes"}
