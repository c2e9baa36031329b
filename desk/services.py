"""The live desk's writes: presence, and the ACD queue across companies.

Routing takes the waiting calls by priority, then the longest-waiting, and offers each to the
longest-idle available agent who may take it (`QueuedCall.eligible`, and the line's language).
Calls and agents are claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so routers running at once
(the webhook's, the periodic tick's, on several machines) never offer one call twice or give one
agent two offers; a partial unique index says the same in the database. Pushes go out on commit.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from desk.dequeue import queue_member_dequeue_soon, queue_member_valid
from desk.models import AgentState, BreakReason, Presence, PresenceChange, QueuedCall
from desk.push import push_to_agent
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User

# The states an agent chooses on the console; the others follow from calls.
CHOSEN_STATES = (AgentState.AVAILABLE, AgentState.ON_BREAK, AgentState.WRAP_UP, AgentState.OFFLINE)
OPEN_STATES = (QueuedCall.State.WAITING, QueuedCall.State.OFFERED)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _presence_locked(user: User, now: dt.datetime) -> Presence:
    Presence.objects.get_or_create(user=user, defaults={"since": now})
    return Presence.objects.select_for_update().get(user=user)


STATE_WRITE = f"""
    WITH changed AS (
        UPDATE {Presence._meta.db_table} SET state = %s, reason_id = %s, since = %s, idle_since = %s
        WHERE user_id = %s RETURNING user_id
    )
    INSERT INTO {PresenceChange._meta.db_table} (user_id, state, reason_id, cause, at)
    SELECT user_id, %s, %s, %s, %s FROM changed
"""


def _state_write(presence: Presence, *, state: str, cause: str, now: dt.datetime, reason=None) -> None:
    if presence.state == state and presence.reason_id == getattr(reason, "pk", None):
        return
    presence.state, presence.reason, presence.since = state, reason, now
    if state == AgentState.AVAILABLE:
        presence.idle_since = now
    # The presence row and its change row in one statement: this runs on every offer, between the
    # inbound call and the agent's screen pop.
    with connection.cursor() as cursor:
        row = [state, presence.reason_id, now, presence.idle_since, presence.user_id]
        cursor.execute(STATE_WRITE, [*row, state, presence.reason_id, cause, now])
    user_id, reason_label = presence.user_id, reason.label if reason else ""
    transaction.on_commit(lambda: push_to_agent(user_id=user_id, kind="state", state=state, reason=reason_label))


def _offer_withdraw(*, user_id: int) -> QueuedCall | None:
    """Put the call offered to this agent back in the queue, ahead of the agent for it."""
    queued = (
        QueuedCall.objects.select_for_update().filter(offered_to_id=user_id, state=QueuedCall.State.OFFERED).first()
    )
    if queued is None:
        return None
    queued.state, queued.offered_to, queued.offered_at, queued.offer_expires_at = (
        QueuedCall.State.WAITING,
        None,
        None,
        None,
    )
    queued.passed_over = sorted({*queued.passed_over, user_id})
    queued.save(update_fields=["state", "offered_to", "offered_at", "offer_expires_at", "passed_over"])
    queued_id = queued.pk
    transaction.on_commit(lambda: push_to_agent(user_id=user_id, kind="withdrawn", queued=queued_id))
    return queued


def presence_set(
    *, user: User, state: str, reason: BreakReason | None = None, cause: str = "agent", now: dt.datetime | None = None
) -> Presence:
    """The agent's own choice on the console: available, on break (with a reason code), wrap-up or
    offline. Leaving an offer this way hands the call back to the queue."""
    now = _now(now)
    if state not in CHOSEN_STATES:
        raise ApplicationError(f"an agent cannot set themselves {state!r}", field="state")
    if state == AgentState.ON_BREAK and reason is not None and not reason.active:
        raise ApplicationError("that break reason is no longer in use", field="reason")
    if state != AgentState.ON_BREAK:
        reason = None
    with transaction.atomic():
        presence = _presence_locked(user, now)
        if presence.state == AgentState.OFFERED:
            _offer_withdraw(user_id=user.pk)
        presence.seen_at = now
        presence.save(update_fields=["seen_at"])
        _state_write(presence, state=state, cause=cause, now=now, reason=reason)
        if state == AgentState.AVAILABLE:
            transaction.on_commit(lambda: queue_route(now=now))
    return presence


def presence_call_done(*, user: User, now: dt.datetime | None = None) -> None:
    """The agent wrapped up their call: from "on a call" (or wrap-up) back to available, and the
    queue is routed again. Any other state (on break, offline) is the agent's own and stays."""
    now = _now(now)
    with transaction.atomic():
        presence = Presence.objects.select_for_update().filter(user=user).first()
        if presence is None or presence.state not in (AgentState.ON_CALL, AgentState.WRAP_UP):
            return
        _state_write(presence, state=AgentState.AVAILABLE, cause="wrapped up", now=now)
        transaction.on_commit(lambda: queue_route(now=now))


def presence_seen(*, user: User, now: dt.datetime | None = None) -> None:
    """A console is connected and alive (its socket opened, or its heartbeat)."""
    now = _now(now)
    Presence.objects.get_or_create(user=user, defaults={"since": now, "seen_at": now})
    Presence.objects.filter(user=user).update(seen_at=now)


def presence_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Agents whose console has not been seen for the grace period go offline, and a call offered
    to them goes back to the queue. Returns their ids."""
    now = _now(now)
    cutoff = now - dt.timedelta(seconds=settings.DESK_GRACE_SECONDS)
    gone = []
    with transaction.atomic():
        rows = (
            Presence.objects.select_for_update(skip_locked=True)
            .exclude(state=AgentState.OFFLINE)
            .filter(Q(seen_at__lt=cutoff) | Q(seen_at__isnull=True))
        )
        for presence in rows:
            if presence.state == AgentState.OFFERED:
                _offer_withdraw(user_id=presence.user_id)
            _state_write(presence, state=AgentState.OFFLINE, cause="connection lost", now=now)
            gone.append(presence.user_id)
    return gone


def presence_signed_out(*, user: User, now: dt.datetime | None = None) -> None:
    """Signing out is going offline, at once."""
    if Presence.objects.filter(user=user).exclude(state=AgentState.OFFLINE).exists():
        presence_set(user=user, state=AgentState.OFFLINE, cause="signed out", now=now)


# ---- the queue ---------------------------------------------------------------------------------


def queue_enter(
    *,
    company: ClientCompany,
    line_id: int,
    call_id: int,
    priority: int,
    language: str,
    eligible: list[int],
    max_wait_seconds: int,
    overflow: str,
    now: dt.datetime | None = None,
) -> QueuedCall:
    """Put a call in the queue (once: a replayed webhook finds it there) and route it, in one
    transaction whose commit pushes the offer. This runs on every inbound call in hours, between
    the caller's ring and the agent's screen pop: one INSERT ... ON CONFLICT DO NOTHING, then the
    routing. Returns the call's entry as the routing left it (a replay: as the first delivery's
    routing left it)."""
    now = _now(now)
    queued = QueuedCall(
        company=company,
        call_id=call_id,
        line_id=line_id,
        priority=priority,
        language=language,
        eligible=sorted(set(eligible)),
        enqueued_at=now,
        overflow_at=now + dt.timedelta(seconds=max_wait_seconds),
        overflow=overflow,
    )
    fields = [f for f in QueuedCall._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(QueuedCall._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT (company_id, call_id) DO NOTHING RETURNING id"
    )
    values = [f.get_db_prep_save(f.pre_save(queued, add=True), connection) for f in fields]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            row = cursor.fetchone()
        if row is None:  # a replayed webhook: the call is in the queue already
            return QueuedCall.objects.get(company=company, call_id=call_id)
        queued.pk = row[0]
        queued._state.adding = False
        offered = {q.pk: q for q in queue_route(now=now)}
    return offered.get(queued.pk, queued)


def _may_take(presence: Presence, queued: QueuedCall) -> bool:
    return presence.user_id in queued.eligible and (not queued.language or queued.language in presence.languages)


def _free_agent(queued: QueuedCall, *, among: list[int], skip: set[int]) -> Presence | None:
    """Lock the longest-idle agent of `among` who is available, may take the call and is not being
    offered a call by another routing pass (SKIP LOCKED: two passes never offer the same agent,
    and neither waits on the other)."""
    agents = (
        Presence.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=AgentState.AVAILABLE, user_id__in=among, user__is_active=True)
        .exclude(user_id__in=skip)
        .order_by("idle_since", "user_id")
    )
    if queued.language:
        agents = agents.filter(languages__contains=[queued.language])
    return agents.first()


def queue_route(*, now: dt.datetime | None = None, limit: int = 200) -> list[QueuedCall]:
    """Offer waiting calls to free agents; returns the offers made. With more than one call
    waiting, the free agents are read once and matched to the calls here, so a long queue with
    nobody free costs what a short one does, not a query per waiting call."""
    now = _now(now)
    offers = []
    with transaction.atomic(savepoint=False):
        waiting = list(
            QueuedCall.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("company")
            .filter(state=QueuedCall.State.WAITING)
            .order_by("-priority", "enqueued_at", "pk")[:limit]
        )
        free = None
        if len(waiting) > 1:
            wanted = {user_id for queued in waiting for user_id in queued.eligible}
            free = list(Presence.objects.filter(state=AgentState.AVAILABLE, user_id__in=wanted, user__is_active=True))
        for queued in waiting:
            among = queued.eligible if free is None else [p.user_id for p in free if _may_take(p, queued)]
            if not among:
                continue
            # An agent whose offer ran out gets the call again only when nobody else can take it.
            passed_over = set(queued.passed_over)
            agent = _free_agent(queued, among=among, skip=passed_over) or (
                _free_agent(queued, among=among, skip=set()) if passed_over else None
            )
            if free is not None:  # offered this call now, or taken by another pass meanwhile
                gone = {agent.user_id} if agent else set(among)
                free = [p for p in free if p.user_id not in gone]
            if agent is None:
                continue
            queued.state, queued.offered_to_id, queued.offered_at = QueuedCall.State.OFFERED, agent.user_id, now
            queued.offer_expires_at = now + dt.timedelta(seconds=settings.DESK_OFFER_SECONDS)
            queued.save(update_fields=["state", "offered_to", "offered_at", "offer_expires_at"])
            # The offer is pushed first, before the state change's push: the screen pop waits on it.
            event = {"queued": queued.pk, "company": queued.company.schema_name}
            transaction.on_commit(
                lambda user_id=agent.user_id, event=event: push_to_agent(
                    user_id=user_id, kind="offer", expires_in=settings.DESK_OFFER_SECONDS, **event
                )
            )
            _state_write(agent, state=AgentState.OFFERED, cause="offer", now=now)
            offers.append(queued)
    return offers


def queue_offers_expire(*, now: dt.datetime | None = None) -> list[int]:
    """Offers not accepted in DESK_OFFER_SECONDS go to the next agent; the agent who let one run
    out is put on break (so the next caller does not wait on them too). Returns the calls' ids."""
    now = _now(now)
    expired = []
    with transaction.atomic():
        rows = QueuedCall.objects.select_for_update(skip_locked=True).filter(
            state=QueuedCall.State.OFFERED, offer_expires_at__lte=now
        )
        for queued in rows:
            user_id = queued.offered_to_id
            _offer_withdraw(user_id=user_id)
            presence = Presence.objects.select_for_update().get(user_id=user_id)
            _state_write(presence, state=AgentState.ON_BREAK, cause="offer expired", now=now)
            expired.append(queued.pk)
    if expired:
        queue_route(now=now)
    return expired


def queue_overflow_due(*, now: dt.datetime | None = None) -> list[QueuedCall]:
    """Calls past their line's maximum wait leave the queue as the line says (the caller's next
    hold poll is told to leave, and the line's overflow answers). A message-only line instead
    moves the call to the head of the queue, for the next free agent to take a message, and sends
    it to voicemail after a second maximum wait."""
    now = _now(now)
    done = []
    with transaction.atomic():
        rows = QueuedCall.objects.select_for_update(skip_locked=True).filter(
            state__in=OPEN_STATES, overflow_at__lte=now
        )
        for queued in rows:
            if queued.overflow == QueuedCall.Overflow.MESSAGE_ONLY:
                queued.priority += 1000
                queued.overflow_at = now + (queued.overflow_at - queued.enqueued_at)
                queued.overflow = QueuedCall.Overflow.VOICEMAIL
                queued.save(update_fields=["priority", "overflow_at", "overflow"])
                done.append(queued)
                continue
            if queued.state == QueuedCall.State.OFFERED:
                user_id = queued.offered_to_id
                presence = Presence.objects.select_for_update().get(user_id=user_id)
                _state_write(presence, state=AgentState.AVAILABLE, cause="call overflowed", now=now)
                queued_id = queued.pk
                transaction.on_commit(
                    lambda u=user_id, q=queued_id: push_to_agent(user_id=u, kind="withdrawn", queued=q)
                )
            queued.state, queued.offered_to, queued.ended_at = QueuedCall.State.OVERFLOWED, None, now
            queued.offer_expires_at = None
            queued.save(update_fields=["state", "offered_to", "ended_at", "offer_expires_at"])
            done.append(queued)
    return done


def offer_accept(*, user: User, queued_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """The agent takes the call offered to them: the caller leaves the queue for this agent."""
    now = _now(now)
    with transaction.atomic():
        queued = (
            QueuedCall.objects.select_for_update()
            .select_related("company")
            .filter(pk=queued_id, offered_to=user, state=QueuedCall.State.OFFERED)
            .first()
        )
        if queued is None:
            raise ApplicationError("This call is no longer offered to you.")
        queued.state, queued.ended_at = QueuedCall.State.CONNECTED, now
        queued.save(update_fields=["state", "ended_at"])
        presence = _presence_locked(user, now)
        _state_write(presence, state=AgentState.ON_CALL, cause="accept", now=now)
        if queued.queue_sid and queued.dequeue_url:
            # After the commit, off this request: the caller leaves the hold loop at once.
            member = {"queued_id": queued.pk, "queue_sid": queued.queue_sid, "call_sid": queued.call_sid}
            transaction.on_commit(lambda: queue_member_dequeue_soon(**member, url=queued.dequeue_url))
    return queued


def queue_member_note(*, queued: QueuedCall, queue_sid: str, call_sid: str, dequeue_url: str) -> None:
    """Remember where Twilio holds a waiting caller (its hold loop's first request says), so that
    accepting can dequeue them at once. Ids that are not Twilio's are ignored: the hold loop's
    <Leave> still takes the caller out."""
    if queued.queue_sid or not queue_member_valid(queue_sid=queue_sid, call_sid=call_sid):
        return
    QueuedCall.objects.filter(pk=queued.pk, queue_sid="").update(
        queue_sid=queue_sid, call_sid=call_sid, dequeue_url=dequeue_url
    )


def queue_leave(*, company: ClientCompany, call_id: int, now: dt.datetime | None = None) -> None:
    """The caller hung up while waiting: the call leaves the queue, and an agent it was offered to
    is free again."""
    now = _now(now)
    with transaction.atomic():
        queued = (
            QueuedCall.objects.select_for_update()
            .filter(company=company, call_id=call_id, state__in=OPEN_STATES)
            .first()
        )
        if queued is None:
            return
        if queued.state == QueuedCall.State.OFFERED:
            user_id = queued.offered_to_id
            _state_write(
                _presence_locked(queued.offered_to, now), state=AgentState.AVAILABLE, cause="caller hung up", now=now
            )
            transaction.on_commit(lambda: push_to_agent(user_id=user_id, kind="withdrawn", queued=queued.pk))
        queued.state, queued.offered_to, queued.offer_expires_at, queued.ended_at = (
            QueuedCall.State.ABANDONED,
            None,
            None,
            now,
        )
        queued.save(update_fields=["state", "offered_to", "offer_expires_at", "ended_at"])


def desk_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic pass (every DESK_TICK_SECONDS): lost consoles, expired offers, overflow, then
    routing of whatever is waiting."""
    now = _now(now)
    gone = presence_sweep(now=now)
    expired = queue_offers_expire(now=now)
    overflowed = queue_overflow_due(now=now)
    offered = queue_route(now=now)
    return {"offline": len(gone), "expired": len(expired), "overflowed": len(overflowed), "offered": len(offered)}
