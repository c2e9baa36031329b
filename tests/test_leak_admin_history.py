"""Leak 6 of issue 13: the admin's history was shared between companies.

Django's admin log was one table in the public schema, keyed by content type and object id, so
initech's Call #n showed who changed acme's Call #n, and when. Written from the side of the people
working for initech, who must see nothing of acme's changes: not on the history page of the object
with the same id, not in the index's recent actions.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from answering.models import Call
from tenants.models import User

pytestmark = pytest.mark.django_db


def _u(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def same_id(acme, initech) -> int:
    """A call id that exists in acme and in initech alike."""
    with tenant_context(acme):
        in_acme = set(Call.objects.values_list("pk", flat=True))
    with tenant_context(initech):
        in_initech = set(Call.objects.values_list("pk", flat=True))
    assert in_acme & in_initech
    return min(in_acme & in_initech)


@pytest.fixture
def acme_change(acme, admin_for, same_id) -> str:
    """The supervisor changes acme's call in the admin: the change is in acme's history."""
    with tenant_context(acme):
        call = Call.objects.get(pk=same_id)
        sid = call.telephony_sid
    client = admin_for(_u("supervisor"), "acme")
    url = f"/admin/answering/call/{same_id}/change/"
    response = client.post(
        url,
        {
            "status": call.status,
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "notes": "Checked by the supervisor",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    history = client.get(f"/admin/answering/call/{same_id}/history/").content.decode()
    assert "supervisor" in history
    assert "Changed" in history
    return sid


def test_another_companys_object_with_the_same_id_shows_none_of_its_history(admin_for, acme_change, same_id):
    for viewer in ("agent1", "supervisor"):
        page = admin_for(_u(viewer), "initech").get(f"/admin/answering/call/{same_id}/history/")
        assert page.status_code == 200
        body = page.content.decode()
        assert "Changed" not in body
        assert "Checked by the supervisor" not in body
        assert "have a change history" in body  # Django's words for an object nobody changed
    assert (
        "supervisor"
        not in admin_for(_u("agent1"), "initech").get(f"/admin/answering/call/{same_id}/history/").content.decode()
    )


def test_recent_actions_show_only_the_company_being_worked_for(admin_for, acme_change):
    client = admin_for(_u("supervisor"), "initech")
    index = client.get("/admin/").content.decode()
    assert f"Call {acme_change}" not in index
    with_no_company = admin_for(_u("supervisor"), None).get("/admin/", follow=True).content.decode()
    assert f"Call {acme_change}" not in with_no_company
    assert f"Call {acme_change}" in admin_for(_u("supervisor"), "acme").get("/admin/").content.decode()


def test_admin_changes_are_written_in_the_companys_own_schema(acme, initech, acme_change):
    with connection.cursor() as cursor:
        counts = {}
        for schema in ("public", "acme", "initech"):
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                [schema, "django_admin_log"],
            )
            if cursor.fetchone()[0]:
                cursor.execute(
                    f'SELECT count(*) FROM "{schema}".django_admin_log WHERE object_repr = %s', [f"Call {acme_change}"]
                )
                counts[schema] = cursor.fetchone()[0]
    assert counts.get("acme") == 1
    assert counts.get("public", 0) == 0
    assert counts.get("initech", 0) == 0
