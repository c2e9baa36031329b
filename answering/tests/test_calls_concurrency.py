"""A call is handled once, also when two people answer it at the same moment: committed rows and
two threads, each on its own connection (so not in a test's rolled-back transaction)."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Line, Message
from answering.services.calls import call_answer
from tenants.errors import ApplicationError
from tenants.models import User


def test_two_agents_answering_the_same_call_at_once_take_one_message(django_db_blocker):
    """Committed rows and two threads, each on its own connection: the row lock lets one answer
    through, and the other gets the clear error, never a second message."""
    import threading

    from django.db import connection, connections

    from operations.outbox.models import OutboxEntry
    from tenants.models import ClientCompany
    from tests.fixtures import in_test_context

    with django_db_blocker.unblock():
        acme = ClientCompany.objects.get(schema_name="acme")
        agents = [User.objects.get(username="agent1"), User.objects.get(username="supervisor")]
        with tenant_context(acme):
            line = Line.objects.get(phone_number="+3726001002")
            call = Call.objects.create(line=line, telephony_sid="CAtwice" + "0" * 27, started_at=timezone.now())
        connection.set_schema_to_public()
        start, results = threading.Barrier(2), {}

        @in_test_context
        def answer(agent):
            try:
                with tenant_context(acme):
                    start.wait()
                    message = call_answer(
                        call=Call.objects.get(pk=call.pk),
                        actor=agent,
                        values={"caller_name": agent.username, "body": f"From {agent.username}"},
                        disposition=Disposition.MESSAGE_TAKEN,
                    )
                    results[agent.username] = message.pk
            except ApplicationError as exc:
                results[agent.username] = exc.message
            except Exception as exc:  # shown in the assertion, not lost in the thread
                results[agent.username] = repr(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=answer, args=(agent,)) for agent in agents]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with tenant_context(acme):
                messages = list(Message.objects.filter(call_id=call.pk))
                assert len(messages) == 1, results
                winner = messages[0].taken_by.username
                loser = next(a.username for a in agents if a.username != winner)
                assert results[winner] == messages[0].pk
                assert "has already been answered" in results[loser]
                assert Call.objects.get(pk=call.pk).agent.username == winner
        finally:
            with tenant_context(acme):
                ids = list(Message.objects.filter(call_id=call.pk).values_list("pk", flat=True))
                OutboxEntry.objects.filter(args__0__in=ids).delete()
                Message.objects.filter(pk__in=ids).delete()
                Call.objects.filter(pk=call.pk).delete()
            connection.set_schema_to_public()
