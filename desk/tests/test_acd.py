"""The ACD queue on the real database: 50 calls across the three companies and 10 agents with mixed
skills (companies, line grants, languages).

Each routing pass claims calls and agents with SELECT ... FOR UPDATE SKIP LOCKED. Eight routers run
at once, each on its own connection, round after round until every call is answered: no call is
offered twice, no agent holds two offers, and every offer goes to an agent who works for the
company, holds the line's grant and speaks its language. Single-router tests then pin the order
(priority, longest-waiting call, longest-idle agent), the offer timeout, the overflow at the line's
maximum wait, and an agent who drops mid-offer.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import tenant_context
from guardian.shortcuts import assign_perm

from answering.models import Line, LineUserObjectPermission
from answering.services.queue import call_queue_enter
from desk.models import AgentState, Presence, PresenceChange, QueuedCall
from desk.services import desk_tick, offer_accept, presence_seen, presence_set, queue_route
from tenants.models import Assignment, ClientCompany, User
from tests.fixtures import in_test_context

ROUTERS = 8
CALL_BASE = 900_000  # synthetic call ids: the queue holds ids only, and these are never real calls
EMERGENCIES, RECEPTION, GLOBEX, INITECH = "+3726001002", "+3726001001", "+3726002001", "+3726003001"

# (companies, lines granted, languages): mixed on purpose. Globex's line asks for Estonian.
AGENTS = [
    (["acme"], [RECEPTION], ["et"]),
    (["acme"], [RECEPTION, EMERGENCIES], ["en"]),
    (["acme", "globex"], [RECEPTION, GLOBEX], ["et", "en"]),
    (["globex"], [GLOBEX], ["en"]),  # no Estonian: never offered a globex call
    (["globex", "initech"], [GLOBEX, INITECH], ["et"]),
    (["initech"], [INITECH], ["en"]),
    (["acme", "initech"], [EMERGENCIES, INITECH], ["et"]),
    (["acme", "globex", "initech"], [RECEPTION, GLOBEX, INITECH], ["et", "ru"]),
    (["initech"], [], ["et"]),  # assigned, but no line grant: never offered anything
    (["acme"], [RECEPTION, EMERGENCIES], ["et"]),
]
LINE_SETUP = {EMERGENCIES: {"queue_priority": 10}, GLOBEX: {"queue_language": "et"}}


def _companies() -> dict[str, ClientCompany]:
    return {c.schema_name: c for c in ClientCompany.objects.filter(schema_name__in=["acme", "globex", "initech"])}


@pytest.fixture
def acd(django_db_blocker):
    """Committed rows (each router's own connection must see them), removed afterwards."""
    with django_db_blocker.unblock():
        companies = _companies()
        agents = []
        for n, (slugs, numbers, languages) in enumerate(AGENTS):
            user, _ = User.objects.get_or_create(
                username=f"acd-agent-{n}", defaults={"provider_role": User.ProviderRole.AGENT, "is_staff": True}
            )
            for slug in slugs:
                Assignment.objects.get_or_create(user=user, company=companies[slug])
                with tenant_context(companies[slug]):
                    for line in Line.objects.filter(phone_number__in=numbers):
                        assign_perm("answering.view_line", user, line)
            Presence.objects.update_or_create(
                user=user, defaults={"state": AgentState.OFFLINE, "since": timezone.now(), "languages": languages}
            )
            agents.append(user)
        saved = {}
        for company in companies.values():
            with tenant_context(company):
                for line in Line.objects.all():
                    saved[line.phone_number] = (company, line.queue_priority, line.queue_language)
                    Line.objects.filter(pk=line.pk).update(**LINE_SETUP.get(line.phone_number, {}))
        connection.set_schema_to_public()
        yield companies, agents
        ids = [a.pk for a in agents]
        QueuedCall.objects.filter(call_id__gte=CALL_BASE).delete()
        PresenceChange.objects.filter(user_id__in=ids).delete()
        Presence.objects.filter(user_id__in=ids).delete()
        for company in companies.values():
            with tenant_context(company):
                LineUserObjectPermission.objects.filter(user_id__in=ids).delete()
                for number, (owner, priority, language) in saved.items():
                    if owner == company:
                        Line.objects.filter(phone_number=number).update(
                            queue_priority=priority, queue_language=language
                        )
        connection.set_schema_to_public()
        Assignment.objects.filter(user_id__in=ids).delete()
        User.objects.filter(pk__in=ids)._raw_delete(connection.alias)


def _enqueue(company: ClientCompany, number: str, n: int, *, at: dt.datetime) -> QueuedCall:
    with tenant_context(company):
        line = Line.objects.get(phone_number=number)
        queued = call_queue_enter(call_id=CALL_BASE + n, line=line, now=at)
    connection.set_schema_to_public()
    return queued


def _may_take(agent: User, queued: QueuedCall) -> bool:
    """Whether the agent may be offered this call, decided from the test's own table."""
    slugs, numbers, languages = AGENTS[int(agent.username.rsplit("-", 1)[1])]
    with tenant_context(queued.company):
        number = Line.objects.get(pk=queued.line_id).phone_number
    connection.set_schema_to_public()
    language = {GLOBEX: "et"}.get(number, "")
    return queued.company.schema_name in slugs and number in numbers and (not language or language in languages)


def _rank(queued: QueuedCall) -> tuple:
    return (-queued.priority, queued.enqueued_at, queued.pk)


def test_fifty_calls_ten_agents_eight_routers_no_double_offers(acd, django_db_blocker):
    companies, agents = acd
    start = timezone.now()
    plan = [("acme", RECEPTION), ("acme", EMERGENCIES), ("globex", GLOBEX), ("initech", INITECH), ("acme", RECEPTION)]
    with django_db_blocker.unblock():
        for n in range(50):
            slug, number = plan[n % len(plan)]
            _enqueue(companies[slug], number, n, at=start + dt.timedelta(seconds=n))
        Presence.objects.filter(user__in=agents).update(state=AgentState.AVAILABLE, seen_at=start)
        for n, agent in enumerate(agents):
            Presence.objects.filter(user=agent).update(idle_since=start - dt.timedelta(minutes=n))

    answered: dict[int, int] = {}
    for round_no in range(60):
        now = start + dt.timedelta(minutes=2, seconds=round_no)
        barrier = threading.Barrier(ROUTERS)
        results: list[list[tuple[int, int]]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def route(now=now, barrier=barrier, results=results, errors=errors, lock=lock):
            from django.db import connection as own

            try:
                barrier.wait(timeout=30)
                offers = queue_route(now=now, limit=5)
                with lock:
                    results.append([(q.pk, q.offered_to_id) for q in offers])
            except Exception as exc:
                with lock:
                    errors.append(repr(exc))
            finally:
                own.close()

        with django_db_blocker.unblock():
            threads = [threading.Thread(target=in_test_context(route)) for _ in range(ROUTERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not errors, errors
            offered = [pair for batch in results for pair in batch]
            calls = [q for q, _ in offered]
            agents_offered = [a for _, a in offered]
            assert len(calls) == len(set(calls)), f"a call offered twice in round {round_no}"
            assert len(agents_offered) == len(set(agents_offered)), f"an agent got two offers in round {round_no}"
            rows = {q.pk: q for q in QueuedCall.objects.select_related("company").filter(pk__in=calls)}
            for queued_id, agent_id in offered:
                queued = rows[queued_id]
                assert queued.state == QueuedCall.State.OFFERED
                assert queued.offered_to_id == agent_id
                agent = next(a for a in agents if a.pk == agent_id)
                assert _may_take(agent, queued), f"{agent} was offered a call they may not take"
                offer_accept(user=agent, queued_id=queued_id, now=now)
                assert queued_id not in answered
                answered[queued_id] = agent_id
                # Free again (set directly: presence_set would route at once, outside the routers).
                Presence.objects.filter(user=agent).update(state=AgentState.AVAILABLE, idle_since=now)
            if not QueuedCall.objects.filter(call_id__gte=CALL_BASE, state=QueuedCall.State.WAITING).exists():
                break
    with django_db_blocker.unblock():
        assert len(answered) == 50
        assert QueuedCall.objects.filter(call_id__gte=CALL_BASE, state=QueuedCall.State.CONNECTED).count() == 50
        # The agents the table says may take nothing, or no globex call, never got one.
        assert agents[8].pk not in answered.values()
        globex_calls = set(
            QueuedCall.objects.filter(company=companies["globex"], call_id__gte=CALL_BASE).values_list("pk", flat=True)
        )
        assert not [q for q, a in answered.items() if q in globex_calls and a == agents[3].pk]


def test_priority_then_longest_waiting_then_longest_idle(acd, django_db_blocker):
    companies, agents = acd
    start = timezone.now()
    with django_db_blocker.unblock():
        older = _enqueue(companies["acme"], RECEPTION, 1, at=start)
        newer = _enqueue(companies["acme"], RECEPTION, 2, at=start + dt.timedelta(seconds=5))
        urgent = _enqueue(companies["acme"], EMERGENCIES, 3, at=start + dt.timedelta(seconds=10))
        # agents 1 and 9 take both acme lines; 9 has been idle longer.
        later = start + dt.timedelta(seconds=20)
        Presence.objects.filter(user=agents[1]).update(
            state=AgentState.AVAILABLE, idle_since=start - dt.timedelta(minutes=1), seen_at=later
        )
        Presence.objects.filter(user=agents[9]).update(
            state=AgentState.AVAILABLE, idle_since=start - dt.timedelta(minutes=5), seen_at=later
        )
        offers = queue_route(now=later)
        by_call = {q.pk: q.offered_to_id for q in offers}
        # The emergencies line's priority comes first, to the longest-idle agent; then the
        # longest-waiting reception call; the newest waits.
        assert by_call == {urgent.pk: agents[9].pk, older.pk: agents[1].pk}
        newer.refresh_from_db()
        assert newer.state == QueuedCall.State.WAITING


def test_an_offer_not_accepted_goes_to_the_next_agent(acd, django_db_blocker, settings):
    companies, agents = acd
    start = timezone.now()
    with django_db_blocker.unblock():
        queued = _enqueue(companies["initech"], INITECH, 1, at=start)
        for n, minutes in ((5, 9), (6, 3)):
            Presence.objects.filter(user=agents[n]).update(
                state=AgentState.AVAILABLE, idle_since=start - dt.timedelta(minutes=minutes), seen_at=start
            )
        (first,) = queue_route(now=start)
        assert first.offered_to_id == agents[5].pk
        for n in (5, 6):
            presence_seen(user=agents[n], now=start + dt.timedelta(seconds=settings.DESK_OFFER_SECONDS))
        desk_tick(now=start + dt.timedelta(seconds=settings.DESK_OFFER_SECONDS + 1))
        queued.refresh_from_db()
        assert queued.state == QueuedCall.State.OFFERED
        assert queued.offered_to_id == agents[6].pk
        assert Presence.objects.get(user=agents[5]).state == AgentState.ON_BREAK
        assert PresenceChange.objects.filter(user=agents[5], cause="offer expired").exists()


def test_past_the_maximum_wait_the_call_overflows_as_the_line_says(acd, django_db_blocker):
    companies, agents = acd
    start = timezone.now()
    with django_db_blocker.unblock():
        queued = _enqueue(companies["globex"], GLOBEX, 1, at=start)  # nobody available
        with tenant_context(companies["globex"]):
            max_wait = Line.objects.get(phone_number=GLOBEX).queue_max_wait_seconds
        connection.set_schema_to_public()
        desk_tick(now=start + dt.timedelta(seconds=max_wait - 1))
        queued.refresh_from_db()
        assert queued.state == QueuedCall.State.WAITING
        desk_tick(now=start + dt.timedelta(seconds=max_wait + 1))
        queued.refresh_from_db()
        assert queued.state == QueuedCall.State.OVERFLOWED
        assert queued.overflow == QueuedCall.Overflow.VOICEMAIL
        # An agent who becomes free afterwards is not offered it.
        Presence.objects.filter(user=agents[4]).update(state=AgentState.AVAILABLE, seen_at=start, idle_since=start)
        assert queue_route(now=start + dt.timedelta(seconds=max_wait + 2)) == []


def test_an_agent_who_drops_mid_offer_loses_the_call_back_within_the_grace_period(acd, django_db_blocker, settings):
    companies, agents = acd
    start = timezone.now()
    grace = settings.DESK_GRACE_SECONDS
    settings.DESK_OFFER_SECONDS = grace * 3  # the offer would still stand: only the lost console ends it
    with django_db_blocker.unblock():
        queued = _enqueue(companies["acme"], EMERGENCIES, 1, at=start)
        Presence.objects.filter(user=agents[1]).update(
            state=AgentState.AVAILABLE, idle_since=start - dt.timedelta(minutes=9), seen_at=start
        )
        (offer,) = queue_route(now=start)
        assert offer.offered_to_id == agents[1].pk
        # Agent 1's console stops (no more heartbeats); agent 6 stays connected and becomes free.
        presence_set(user=agents[6], state=AgentState.AVAILABLE, now=start + dt.timedelta(seconds=1))
        for second in range(2, grace + 2, 2):
            presence_seen(user=agents[6], now=start + dt.timedelta(seconds=second))
        desk_tick(now=start + dt.timedelta(seconds=grace - 1))
        queued.refresh_from_db()
        assert queued.offered_to_id == agents[1].pk  # still within the grace period
        desk_tick(now=start + dt.timedelta(seconds=grace + 1))
        queued.refresh_from_db()
        assert Presence.objects.get(user=agents[1]).state == AgentState.OFFLINE
        assert PresenceChange.objects.filter(user=agents[1], cause="connection lost").exists()
        assert queued.state == QueuedCall.State.OFFERED
        assert queued.offered_to_id == agents[6].pk
        assert agents[1].pk in queued.passed_over


def test_the_database_refuses_a_second_offer_to_one_agent(acd, django_db_blocker):
    from django.db import IntegrityError, transaction

    companies, agents = acd
    start = timezone.now()
    with django_db_blocker.unblock():
        one = _enqueue(companies["acme"], RECEPTION, 1, at=start)
        two = _enqueue(companies["acme"], RECEPTION, 2, at=start)
        expires = start + dt.timedelta(seconds=15)
        QueuedCall.objects.filter(pk=one.pk).update(state="offered", offered_to=agents[0], offer_expires_at=expires)
        with pytest.raises(IntegrityError), transaction.atomic():
            QueuedCall.objects.filter(pk=two.pk).update(state="offered", offered_to=agents[0], offer_expires_at=expires)
        assert not QueuedCall.objects.filter(Q(pk=two.pk) & ~Q(state="waiting")).exists()


def test_a_long_queue_with_nobody_free_costs_what_a_short_one_does(acd, django_db_blocker):
    """Routing reads the free agents once and matches them to the waiting calls itself: 30 calls
    waiting with nobody free must not cost 30 queries on every inbound call, and when agent 9 comes
    free the longest-waiting call they may take is offered to them, not a later one."""
    from django.test.utils import CaptureQueriesContext

    companies, agents = acd
    start = timezone.now()
    with django_db_blocker.unblock():
        first = _enqueue(companies["initech"], INITECH, 0, at=start)
        with CaptureQueriesContext(connection) as short:
            queue_route(now=start)
        for n in range(1, 30):
            _enqueue(companies["initech"], INITECH, n, at=start + dt.timedelta(seconds=n))
        acme_call = _enqueue(companies["acme"], RECEPTION, 30, at=start + dt.timedelta(seconds=30))
        with CaptureQueriesContext(connection) as long:
            assert queue_route(now=start + dt.timedelta(seconds=31)) == []
        assert len(long.captured_queries) == len(short.captured_queries)
        # Agent 9 takes acme's lines only: the initech calls ahead of the acme one are not theirs.
        Presence.objects.filter(user=agents[9]).update(state=AgentState.AVAILABLE, idle_since=start, seen_at=start)
        (offer,) = queue_route(now=start + dt.timedelta(seconds=32))
        assert (offer.pk, offer.offered_to_id) == (acme_call.pk, agents[9].pk)
        first.refresh_from_db()
        assert first.state == QueuedCall.State.WAITING
