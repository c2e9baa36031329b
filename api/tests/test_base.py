"""The gated base view of the API: a subclass cannot override or swap out what the gates act
through; a request gets in only on its own company's schema and as one of its client users, with
the scope its token or role allows; and what it shows or is refused is in the access log."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django_tenants.utils import tenant_context
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from answering.models import Line
from api.base import TenantAPIView
from audit.models import AccessLogEntry
from crm.models import Contact

pytestmark = pytest.mark.django_db


class UnscopedApi(TenantAPIView):
    def get(self, request):
        return Response({"ok": True})

    def safely_get_queryset(self):
        return Line.objects.all()


def _call_unscoped(acme, **headers):
    request = RequestFactory().get("/api/v1/unscoped/", HTTP_HOST="acme.localhost", **headers)
    request.tenant = acme
    connection.set_tenant(acme)
    return UnscopedApi.as_view()(request)


def test_a_view_without_api_scope_refuses_every_token(acme, acme_admin, issue):
    from api.tokens.scopes import ALL_SCOPES

    _, secret = issue(acme_admin, acme, list(ALL_SCOPES))
    assert _call_unscoped(acme, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403


def test_a_view_without_api_scope_still_serves_the_portals_session(acme, acme_admin):
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/api/v1/unscoped/", HTTP_HOST="acme.localhost")
    request.tenant = acme
    request.user = acme_admin
    request.session = SessionStore()
    request._dont_enforce_csrf_checks = True
    connection.set_tenant(acme)
    assert UnscopedApi.as_view()(request).status_code == 200


def test_the_base_refuses_views_that_swap_out_authentication_or_throttling():
    with pytest.raises(TypeError, match="authentication_classes"):
        type("Sloppy", (TenantAPIView,), {"authentication_classes": []})
    with pytest.raises(TypeError, match="throttle_classes"):
        type("Sloppy", (TenantAPIView,), {"throttle_classes": []})
    with pytest.raises(TypeError, match="get_throttles"):
        type("Sloppy", (TenantAPIView,), {"get_throttles": lambda self: []})
    with pytest.raises(TypeError, match="api_scope"):
        type("Sloppy", (TenantAPIView,), {"api_scope": "everything"})


def test_api_views_cannot_override_the_methods_the_gates_act_through():
    from api.base import PROTECTED_METHODS, TenantAPIView

    for name in PROTECTED_METHODS:
        with pytest.raises(TypeError, match=name):
            type("Leaky", (TenantAPIView,), {name: lambda self, *a, **k: None})


class ContactsApi(TenantAPIView):
    api_scope = "contacts"

    def get(self, request, pk=None):
        if pk is not None:
            raise Http404
        return Response([{"id": c.pk, "name": c.name} for c in self.safely_get_queryset()[:2]])

    def safely_get_queryset(self):
        return Contact.objects.only("name").order_by("pk")  # the log records what the query loaded


def _as_session(company, user, path="/api/v1/stub/", **extra):
    request = RequestFactory().get(path, HTTP_HOST=f"{company.schema_name}.localhost", **extra)
    request.tenant = company
    request.user = user
    request.session = SessionStore()
    request._dont_enforce_csrf_checks = True
    return request


def test_a_request_on_another_schema_than_its_company_is_404(acme, globex, acme_admin):
    request = _as_session(acme, acme_admin)
    connection.set_tenant(globex)
    assert ContactsApi.as_view()(request).status_code == 404


def test_provider_staff_are_not_let_in_even_where_they_are_assigned(acme, agent1):
    connection.set_tenant(acme)
    assert ContactsApi.as_view()(_as_session(acme, agent1)).status_code == 404


def test_the_rows_shown_are_logged_with_their_fields_and_a_miss_as_refused(acme, acme_admin):
    connection.set_tenant(acme)
    shown = ContactsApi.as_view()(_as_session(acme, acme_admin))
    read = AccessLogEntry.objects.order_by("-pk").first()
    missed = ContactsApi.as_view()(_as_session(acme, acme_admin, path="/api/v1/stub/4242/"), pk=4242)
    refused = AccessLogEntry.objects.order_by("-pk").first()
    assert shown.status_code == 200
    assert (read.channel, read.object_ids, read.fields, read.refused) == (
        "api",
        [str(row["id"]) for row in shown.data],
        ["name"],  # `id` is no personal field
        False,
    )
    assert missed.status_code == 404
    assert (refused.object_ids, refused.refused, refused.path) == (["4242"], True, "/api/v1/stub/4242/")


def test_a_response_without_rows_logs_nothing(acme, acme_admin):
    connection.set_tenant(acme)
    before = AccessLogEntry.objects.count()
    assert UnscopedApi.as_view()(_as_session(acme, acme_admin)).data == {"ok": True}
    assert AccessLogEntry.objects.count() == before


def test_an_empty_query_parameter_is_a_400_naming_it(client_for, acme_admin):
    response = client_for("acme.localhost", acme_admin).get("/api/v1/messages/?status=&limit=5")
    assert response.status_code == 400
    assert response.json() == {"status": ["This parameter is empty: give it a value, or leave it out."]}


def test_a_refusal_says_whether_the_role_or_the_token_lacks_the_scope(acme, acme_admin, acme_member, issue, bearer):
    session = _as_session(acme, acme_member)
    connection.set_tenant(acme)

    class AccessLogApi(ContactsApi):
        api_scope = "access_log"

    assert AccessLogApi.as_view()(session).data == {"detail": "your role does not allow access_log:read"}
    _, secret = issue(acme_admin, acme, ["lines:read"])
    refused = bearer("acme.localhost", secret).get("/api/v1/messages/")
    assert (refused.status_code, refused.json()["detail"]) == (403, "this token lacks the scope messages:read")


def test_a_view_that_forgets_safely_get_queryset_is_told_so():
    class Forgetful(TenantAPIView):
        api_scope = "lines"

    with pytest.raises(TypeError, match=r"^Forgetful must define safely_get_queryset\(\)$"):
        Forgetful().get_queryset()


def test_only_a_client_admin_passes_require_client_admin(acme, acme_admin, acme_member):
    view = ContactsApi()
    with tenant_context(acme):
        view.require_client_admin(_as_session(acme, acme_admin))
        with pytest.raises(PermissionDenied, match="only a client admin of this company may do this"):
            view.require_client_admin(_as_session(acme, acme_member))
