"""The custom admin view base, on throwaway views, from the side of the person it must refuse.

agent2 works for acme only, with a grant on the reception line (+3726001001) and none on a
restricted contact; agent1 works for globex too, where numbers are not granted.
"""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line
from crm.models import Contact
from gates.admin_views import Fetch, GatedAdminView
from gates.engine import WITHHELD
from gates.selection import SESSION_KEY

pytestmark = pytest.mark.django_db


class Seen(GatedAdminView):
    """Hands back what the base gave it."""

    roles = ("agent", "supervisor")
    objects = {"pk": Fetch(Call, related=("line",))}
    seen: dict = {}

    def get(self, request, *, call):
        Seen.seen = {
            "schema": connection.schema_name,
            "call": call,
            "deferred": call.get_deferred_fields(),
            "contact": self.related(call, "contact"),
        }
        return HttpResponse("ok")


def _request(rf, user, company: str | None):
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/admin/throwaway/", HTTP_HOST="localhost")
    request.user = user
    request.session = SessionStore()
    request.session[SESSION_KEY] = company
    return request


def _view():
    return Seen.as_view(django_admin.site.get_model_admin(Call))


def _call(company, **filters) -> Call:
    with tenant_context(company):
        return Call.objects.filter(**filters).order_by("pk").first()


@pytest.mark.parametrize("name", ["dispatch", "queryset", "get_object", "related", "as_view", "__init__"])
def test_a_view_overriding_a_gate_is_refused_at_import(name):
    with pytest.raises(TypeError, match="skip a gate"):
        type("Leaky", (GatedAdminView,), {name: lambda self, *a, **k: None})


def test_no_company_chosen_or_one_gate_1_refuses_is_404(rf, agent2, acme):
    call = _call(acme, line__phone_number="+3726001001")
    for company in (None, "globex", "initech"):
        with pytest.raises(Http404):
            _view()(_request(rf, agent2, company), pk=call.pk)


def test_a_role_the_view_is_not_for_is_404(rf, acme):
    from tenants.models import User

    call = _call(acme)
    with pytest.raises(Http404):
        _view()(_request(rf, User.objects.get(username="dpo"), "acme"), pk=call.pk)


def test_an_object_outside_the_gate_missing_or_malformed_is_the_same_404(rf, agent2, acme):
    outside = _call(acme, line__phone_number="+3726001002")
    for pk in (outside.pk, 999999, "x"):
        with pytest.raises(Http404):
            _view()(_request(rf, agent2, "acme"), pk=pk)


def test_the_handler_runs_in_the_company_with_the_ungranted_fields_deferred(rf, agent1, globex):
    call = _call(globex, line__phone_number="+3726002001", contact__restricted=False)
    assert _view()(_request(rf, agent1, "globex"), pk=call.pk).status_code == 200
    assert Seen.seen["schema"] == "globex"
    assert Seen.seen["call"].pk == call.pk
    assert "caller_number" in Seen.seen["deferred"]  # globex does not grant numbers: never loaded
    assert "caller_name" not in Seen.seen["deferred"]
    contact = Seen.seen["contact"]
    assert isinstance(contact, Contact)
    assert {"phone_number", "email", "health_notes"} <= contact.get_deferred_fields()


def test_a_related_record_outside_its_own_gate_is_withheld(rf, agent2, acme):
    with tenant_context(acme):
        vip = Contact.objects.create(name="Vera Salajane", restricted=True)
        call = Call.objects.create(
            line=Line.objects.get(phone_number="+3726001001"),
            telephony_sid="CAbase" + "0" * 28,
            started_at=timezone.now(),
            contact=vip,
        )
        bare = Call.objects.create(
            line=call.line, telephony_sid="CAbare" + "0" * 28, started_at=timezone.now(), contact=None
        )
    _view()(_request(rf, agent2, "acme"), pk=call.pk)
    assert Seen.seen["contact"] is WITHHELD
    assert str(Seen.seen["contact"]) == "restricted"
    _view()(_request(rf, agent2, "acme"), pk=bare.pk)
    assert Seen.seen["contact"] is None


def test_joining_a_relation_with_gates_of_its_own_is_refused(rf, agent2, acme):
    class Joins(GatedAdminView):
        def get(self, request):
            self.queryset(Call, related=("contact",))

    with pytest.raises(TypeError, match="use related"):
        Joins.as_view(django_admin.site.get_model_admin(Call))(_request(rf, agent2, "acme"))


def test_a_method_the_view_does_not_handle_is_405(rf, agent2, acme):
    call = _call(acme, line__phone_number="+3726001001")
    request = _request(rf, agent2, "acme")
    request.method = "POST"
    assert _view()(request, pk=call.pk).status_code == 405
