"""Every list's page query on a busy company's tables: 100,000 calls and 100,000 messages (copies
made in the test's transaction, tests/bulk.py). The SQL comes from the real view (captured on a
request), and PostgreSQL's plan for it reads an index in the list's order: an Index Scan or Index
Only Scan, no Seq Scan of the table and no Sort of its rows. No timing: the plan is the assertion.

Then the portal's and the API's lists make as many queries for a page of many rows as for a few,
and on a later page as on the first (the admin's lists: tests/test_gated_changelist.py).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from answering.models import Call, Message
from tenants.models import User
from tests.bulk import rows_copied

pytestmark = pytest.mark.django_db

TABLES = {"calls": '"answering_call"', "messages": '"answering_message"'}


def _page_query(captured, table: str) -> str:
    """The one query of a request that reads a page of `table`'s rows: it selects from the table,
    ordered, with a LIMIT (not a count, not the rows' related records)."""
    found = [
        q["sql"]
        for q in captured.captured_queries
        if re.match(rf'SELECT {table}\."id"', q["sql"])
        and f"FROM {table}" in q["sql"]
        and " ORDER BY " in q["sql"]
        and " LIMIT " in q["sql"]
    ]
    assert len(found) == 1, [q["sql"][:200] for q in captured.captured_queries]
    return found[0]


def _plan(company, sql: str) -> str:
    with tenant_context(company), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _assert_indexed(plan: str, table: str, what: str) -> None:
    name = table.strip('"')
    assert re.search(rf"Index (Only )?Scan( Backward)? using \w+ on {name}\b", plan), f"{what}\n{plan}"
    assert f"Seq Scan on {name}" not in plan, f"{what}\n{plan}"
    assert f"Bitmap Heap Scan on {name}" not in plan, f"{what}\n{plan}"
    assert not re.search(r"^\s*(->\s*)?(Incremental )?Sort\b", plan, re.M), f"{what}\n{plan}"


def _messages_to_copy(company) -> None:
    """One message on the reception line (agent2's grant) if the company has none yet."""
    from answering.models import Line

    with tenant_context(company):
        if not Message.objects.exists():
            line = Line.objects.get(phone_number="+3726001001")
            Message.objects.create(line=line, caller_name="Mari Maasikas", body="Please call back")


def test_every_list_reads_its_page_through_an_index_on_100000_rows(acme, client_for, admin_for, acme_admin, agent2):
    _messages_to_copy(acme)
    rows_copied(acme, Call, 100_000)
    rows_copied(acme, Message, 100_000)
    supervisor = User.objects.get(username="supervisor")
    portal = client_for("acme.localhost", acme_admin)
    lists = [
        ("the client API's call list", portal, "/api/v1/calls/?limit=50", "calls"),
        ("the client API's message list", portal, "/api/v1/messages/?limit=50", "messages"),
        ("the portal's call list", portal, "/calls/", "calls"),
        ("the portal's message list", portal, "/messages/", "messages"),
        ("the supervisor's admin call list", admin_for(supervisor, "acme"), "/admin/answering/call/", "calls"),
        ("the agent's admin call list", admin_for(agent2, "acme"), "/admin/answering/call/", "calls"),
        ("the supervisor's admin message list", admin_for(supervisor, "acme"), "/admin/answering/message/", "messages"),
        ("the agent's admin message list", admin_for(agent2, "acme"), "/admin/answering/message/", "messages"),
    ]
    for what, client, url, kind in lists:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (what, response.status_code)
        table = TABLES[kind]
        _assert_indexed(_plan(acme, _page_query(captured, table)), table, what)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured.captured_queries)


PORTAL_AND_API = [
    "/calls/",
    "/messages/",
    "/voicemail/",
    "/api/v1/calls/?limit={limit}&offset={offset}",
    "/api/v1/messages/?limit={limit}&offset={offset}",
    "/api/v1/voicemail/?limit={limit}&offset={offset}",
]


@pytest.mark.parametrize("url", PORTAL_AND_API)
def test_the_portal_and_api_lists_make_as_many_queries_for_many_rows_and_later_pages(acme, client_for, acme_admin, url):
    client = client_for("acme.localhost", acme_admin)
    _messages_to_copy(acme)
    rows_copied(acme, Message, 5)  # a few, so that the first page of two is not the last
    few = url.format(limit=2, offset=0)
    client.get(few)  # warm the session and the caches
    before = _queries(client, few)
    # Enough that the later page is not the last: a last page is not counted, by design (api/pagination.py).
    rows_copied(acme, Call, 250)
    rows_copied(acme, Message, 250)
    many = url.format(limit=100, offset=0)
    later = url.format(limit=100, offset=100) if "{" in url else f"{url}?page=2"
    assert _queries(client, many) == before
    assert _queries(client, later) == before
    assert _queries(client, few) == before
