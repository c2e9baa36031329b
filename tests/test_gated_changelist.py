"""The gated admin's changelist (gates/admin_list.py), from the side of the person who must not see:
its rows are Django's own cells, cell for cell, for every gated list and every person, so the
lighter rendering shows no column, link or unescaped value Django's would not; a masked field is
still never loaded; and every gated list makes as many queries for one row as for a hundred, on
the first page as on the second.

Demo world: acme's DPA grants agents names, numbers, e-mail, content and voice (not health);
globex's grants names and content only. agent2 works for acme with a grant on the reception line
only; agent1 works for acme and globex.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from gates.admin import MASK, GatedModelAdmin
from gates.admin_list import GatedChangeList, action_checkbox_html, rows_html, url_with_pk
from gates.context import person_context
from tenants.models import ClientCompany, User
from tenants.timezones import company_zone_of

pytestmark = pytest.mark.django_db

GATED = sorted(
    (model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, GatedModelAdmin)),
    key=lambda model_admin: model_admin.opts.label,
)


def _url(model_admin) -> str:
    opts = model_admin.opts
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", urlconf="config.urls_public")


@pytest.fixture
def supervisor(db) -> User:
    return User.objects.get(username="supervisor")


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _lists_for(user: User) -> list:
    """The gated lists this person's role may open; every other one refuses them (billing is the
    supervisors' and the provider admins', never an agent's)."""
    return [model_admin for model_admin in GATED if user.provider_role in model_admin.view_roles]


def _refused(client, user: User) -> None:
    for model_admin in GATED:
        if model_admin not in _lists_for(user):
            assert client.get(_url(model_admin)).status_code in (403, 404), model_admin.opts.label


def _both(cl, company, request) -> tuple[list[str], list[str], list[str], list[str]]:
    """The rows and their change URLs as ours and Django's own renderer build them, in the same
    person's context and on the provider's host, as during the request."""
    from django.urls import set_urlconf

    policy = cl.model_admin.gate_policy(request)
    set_urlconf("config.urls_public")  # the provider's host, as during the request
    try:
        person = person_context(user=request.user, company=company, policy=policy, channel="admin")
        with tenant_context(company), person, timezone.override(company_zone_of(company)):
            theirs = ["".join(items) for items in results(cl)]
            their_urls = [ChangeList.url_for_result(cl, row) for row in cl.result_list]
            return rows_html(cl), theirs, [cl.url_for_result(row) for row in cl.result_list], their_urls
    finally:
        set_urlconf(None)


@pytest.mark.parametrize(("username", "slug"), [("agent2", "acme"), ("supervisor", "acme"), ("agent1", "globex")])
def test_every_gated_list_shows_exactly_djangos_cells(admin_for, username, slug):
    user = User.objects.get(username=username)
    company = ClientCompany.objects.get(schema_name=slug)
    client = admin_for(user, slug)
    _refused(client, user)
    shown = 0
    for model_admin in _lists_for(user):
        response = _page(client, _url(model_admin))
        cl = response.context["cl"]
        assert isinstance(cl, GatedChangeList)
        ours, theirs, our_urls, their_urls = _both(cl, company, response.wsgi_request)
        assert ours == theirs, model_admin.opts.label
        assert our_urls == their_urls
        html = response.content.decode()
        for row in ours:
            assert f"<tr>{row}</tr>" in html  # what the page sends is what was compared
        shown += len(ours)
    assert shown > 20  # the demo world fills the lists: the comparison compared something


def test_the_action_checkbox_is_djangos_widget(admin_for, supervisor, acme):
    from answering.admin import CallAdmin
    from answering.models import Call

    call_admin = admin.site._registry[Call]
    assert isinstance(call_admin, CallAdmin)
    with tenant_context(acme):
        for call in Call.objects.all()[:5]:
            assert action_checkbox_html(call) == admin.ModelAdmin.action_checkbox(call_admin, call)


def test_a_url_from_its_prefix_is_the_reversed_url():
    from django.contrib.admin.utils import quote
    from django.urls import set_urlconf

    set_urlconf("config.urls_public")
    try:
        change = "admin:answering_call_change"
        for pk in (1, 42, "a/b c", "ünï", "<script>"):
            expected = reverse(change, args=[quote(pk)], current_app="admin")
            assert url_with_pk(change, pk, current_app="admin") == expected
        assert url_with_pk("admin:answering_call_answer", 42) == reverse("admin:answering_call_answer", args=[42])
    finally:
        set_urlconf(None)


def test_a_masked_column_is_never_loaded_for_the_list(admin_for, agent1, globex):
    """globex grants no numbers: the call list's rows query names no number column, and the page
    shows the mask where the number would be."""
    client = admin_for(agent1, "globex")
    with CaptureQueriesContext(connection) as captured:
        response = _page(client, "/admin/answering/call/")
    rows = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "answering_call"."id"')]
    assert rows, captured.captured_queries
    assert all('"caller_number"' not in sql for sql in rows)
    assert all('"notes"' not in sql for sql in rows)  # not a column: the list loads what it shows
    assert MASK in response.content.decode()


def test_the_list_loads_only_its_columns_and_counts_once(admin_for, supervisor, acme):
    client = admin_for(supervisor, "acme")
    _page(client, "/admin/answering/call/")
    with CaptureQueriesContext(connection) as captured:
        _page(client, "/admin/answering/call/")
    calls = [q["sql"] for q in captured.captured_queries if 'FROM "answering_call"' in q["sql"]]
    rows = [sql for sql in calls if sql.startswith('SELECT "answering_call"."id"')]
    assert len(rows) == 1
    assert '"answering_call"."notes"' not in rows[0]
    assert '"crm_contact"' not in rows[0]  # the contact is not a column: not joined
    assert "UNION" not in rows[0]
    counts = [sql for sql in calls if sql.startswith("SELECT COUNT(*)")]
    assert len(counts) == 1  # nothing filters the list, so its total is the count already made
    with CaptureQueriesContext(connection) as filtered:
        _page(client, "/admin/answering/call/?status__exact=completed")
    counts = [q["sql"] for q in filtered.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len([sql for sql in counts if '"answering_call"' in sql]) == 2  # filtered, and the total


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        _page(client, url)
    return len(captured.captured_queries)


@pytest.mark.parametrize(("username", "slug"), [("agent2", "acme"), ("supervisor", "acme"), ("agent1", "globex")])
def test_every_gated_list_makes_as_many_queries_for_many_rows_and_later_pages(admin_for, monkeypatch, username, slug):
    user = User.objects.get(username=username)
    client = admin_for(user, slug)
    covered = []
    expected = {"call", "contact"} | ({"line"} if username == "supervisor" else set())
    for model_admin in _lists_for(user):
        url = _url(model_admin)
        rows = _page(client, url).context["cl"].result_count  # also warms the session and caches
        if rows < 2:
            continue
        monkeypatch.setattr(model_admin, "list_per_page", 1)
        one, second_page = _queries(client, url), _queries(client, f"{url}?p=2")
        monkeypatch.setattr(model_admin, "list_per_page", 100)
        many = _queries(client, url)
        assert one == many == second_page, (model_admin.opts.label, one, many, second_page)
        covered.append(model_admin.opts.model_name)
    assert expected <= set(covered), covered  # the lists that matter held rows to compare


def test_the_policy_is_worked_out_once_per_request_and_again_on_the_next(admin_for, agent2, acme, monkeypatch):
    """Training gaps, the DPA in force and its grants: one computation for the whole list, and a
    new one on the next request (so a revoked grant never outlives its change)."""
    import gates.engine as engine

    worked_out = []
    real = engine.policy_for

    def counted(**kwargs):
        worked_out.append(kwargs["company"].pk)
        return real(**kwargs)

    monkeypatch.setattr(engine, "policy_for", counted)
    client = admin_for(agent2, "acme")
    _page(client, "/admin/answering/call/")
    worked_out.clear()
    _page(client, "/admin/answering/call/")
    assert worked_out == [acme.pk]
    _page(client, "/admin/answering/call/")
    assert worked_out == [acme.pk, acme.pk]
