"""The DSR raise page and the DPO's workspace and evidence pages, on the custom-view bases
(`gates.admin_views`), from the side of the person who must not see.

agent2 works for acme only; the supervisor and the DPO for all three companies until a test takes
an assignment away. A page outside what the person may enter does not exist for them: a 404 that
says nothing (no count, no id, no "found"), and nothing written or served.
"""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.http import Http404, HttpResponse
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry, DataSubjectRequest, EvidencePack
from gates.admin_views import GatedCrossCompanyAdminView
from tenants.models import Assignment, ClientCompany, User

pytestmark = pytest.mark.django_db

RAISE = "/admin/audit/datasubjectrequest/raise/"
EVIDENCE = "/admin/dpo/evidence/"
NUMBER = "+37255598001"


def _u(username: str) -> User:
    return User.objects.get(username=username)


def _requests(company: ClientCompany) -> int:
    with tenant_context(company):
        return DataSubjectRequest.objects.count()


def _says_nothing(response) -> None:
    """A 404 whose body is the one of a page that does not exist at all: no count, no id, no
    "found", no company."""
    from django.test import Client

    assert response.status_code == 404
    assert response.content == Client(HTTP_HOST="localhost").get("/no-such-page/").content


@pytest.fixture
def packs(client_for):
    """An evidence pack asked for by each of acme's and initech's admins: {slug: pack}."""
    made = {}
    for slug in ("acme", "initech"):
        assert client_for(f"{slug}.localhost", _u(f"{slug}-admin")).post("/audits/").status_code == 302
        with tenant_context(ClientCompany.objects.get(schema_name=slug)):
            made[slug] = EvidencePack.objects.order_by("-pk").first()
    return made


def _download(slug: str, pack: EvidencePack) -> str:
    return f"{EVIDENCE}{slug}/{pack.pk}/download/"


# ---- the DSR raise page


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_agent_not_assigned_to_a_company_cannot_reach_its_raise_page(admin_for, globex, method):
    before = _requests(globex)
    client = admin_for(_u("agent2"), "globex")  # the switcher's session names globex; gate 1 refuses it
    _says_nothing(getattr(client, method)(RAISE, {"kind": "access", "phone_number": NUMBER}))
    assert _requests(globex) == before


def test_a_supervisor_taken_off_a_company_cannot_raise_there_by_a_stale_session(admin_for, globex):
    supervisor = _u("supervisor")
    client = admin_for(supervisor, "globex")
    assert client.get(RAISE).status_code == 200  # while assigned
    before = _requests(globex)

    Assignment.objects.filter(user=supervisor, company=globex).delete()
    _says_nothing(client.post(RAISE, {"kind": "access", "phone_number": NUMBER}))
    _says_nothing(client.get(RAISE))
    assert _requests(globex) == before


def test_a_raise_page_without_a_company_chosen_is_404(admin_for, acme):
    before = _requests(acme)
    _says_nothing(admin_for(_u("dpo")).post(RAISE, {"kind": "access", "phone_number": NUMBER}))
    assert _requests(acme) == before


def test_choosing_a_company_outside_the_persons_own_is_404(admin_for, initech):
    before = _requests(initech)
    client = admin_for(_u("agent2"), "acme")
    assert client.post("/admin/switch/", {"company": "initech"}).status_code == 404
    assert client.session["admin_company"] == "acme"  # still acme, not initech
    supervisor = admin_for(_u("supervisor"), "acme")
    Assignment.objects.filter(user=_u("supervisor"), company=initech).delete()
    assert supervisor.post("/admin/switch/", {"company": "initech"}).status_code == 404
    assert supervisor.post(RAISE, {"kind": "access", "phone_number": NUMBER}).status_code == 302  # in acme
    assert _requests(initech) == before


# ---- the evidence pages


def test_an_agent_reaches_no_evidence_page_of_any_company(admin_for, acme, packs):
    client = admin_for(_u("agent2"), "acme")
    _says_nothing(client.get(EVIDENCE))
    for slug, pack in packs.items():
        _says_nothing(client.post(_download(slug, pack)))
    with tenant_context(acme):
        assert not AccessLogEntry.objects.filter(object_type="audit.EvidencePack", refused=False).exists()


def test_a_dpo_assigned_to_acme_only_sees_only_acme_on_the_evidence_page(admin_for, globex, initech, packs):
    dpo = _u("dpo")
    Assignment.objects.filter(user=dpo, company__in=[globex, initech]).delete()
    client = admin_for(dpo, "acme")

    listing = client.get(EVIDENCE).content.decode()
    assert "Acme Dental Clinic" in listing
    assert _download("acme", packs["acme"]) in listing
    assert "Initech" not in listing
    assert "Globex" not in listing
    assert "/initech/" not in listing

    # A POST naming a company outside the DPO's own is the 404 of a pack that does not exist.
    refused = client.post(_download("initech", packs["initech"]))
    missing = client.post(f"{EVIDENCE}acme/{packs['acme'].pk + 999}/download/")
    assert refused.status_code == missing.status_code == 404
    assert refused.content == missing.content
    with tenant_context(initech):
        assert not AccessLogEntry.objects.filter(object_type="audit.EvidencePack", user=dpo).exists()
    assert client.post(_download("acme", packs["acme"])).status_code == 200


def test_a_dpo_assigned_to_acme_only_sees_only_acme_in_the_workspace(admin_for, acme, globex, initech):
    dpo = _u("dpo")
    before = admin_for(dpo).get("/admin/dpo/").content.decode()
    assert "Globex" in before
    assert "Initech" in before

    Assignment.objects.filter(user=dpo, company__in=[globex, initech]).delete()
    page = admin_for(dpo, "acme").get("/admin/dpo/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Globex" not in text
    assert "Initech" not in text


def test_the_workspace_is_404_to_agents_and_supervisors(admin_for):
    for username in ("agent1", "agent2", "supervisor"):
        _says_nothing(admin_for(_u(username), "acme").get("/admin/dpo/"))


# ---- the cross-company base, on throwaway views


class _Reads(GatedCrossCompanyAdminView):
    roles = ("dpo",)
    seen: dict = {}

    def get(self, request):
        if request.GET.get("outside"):
            self.queryset(EvidencePack)  # no company entered: must raise
        for company in self.companies.order_by("name"):
            with self.entering(company) as policy:
                _Reads.seen[company.schema_name] = (policy.role, self.queryset(EvidencePack).count())
        return HttpResponse("ok")


def _request(rf, user, **query):
    request = rf.get("/admin/throwaway/", query, HTTP_HOST="localhost")
    request.user = user
    return request


def test_a_cross_company_view_reads_one_company_only_inside_it(rf, initech, packs):
    dpo = _u("dpo")
    Assignment.objects.filter(user=dpo, company=initech).delete()
    _Reads.seen = {}
    view = _Reads.as_view(django_admin.site)
    assert view(_request(rf, dpo)).status_code == 200
    assert set(_Reads.seen) == {"acme", "globex"}
    assert _Reads.seen["acme"] == ("dpo", 1)
    with pytest.raises(RuntimeError, match="entering"):
        view(_request(rf, dpo, outside="1"))


def test_a_cross_company_view_refuses_other_roles_and_companies_not_entered(rf, initech):
    with pytest.raises(Http404):
        _Reads.as_view(django_admin.site)(_request(rf, _u("supervisor")))

    class Enters(GatedCrossCompanyAdminView):
        def get(self, request):
            with self.entering(initech):
                return HttpResponse("in")

    dpo = _u("dpo")
    assert Enters.as_view(django_admin.site)(_request(rf, dpo)).content == b"in"
    Assignment.objects.filter(user=dpo, company=initech).delete()
    with pytest.raises(Http404):
        Enters.as_view(django_admin.site)(_request(rf, dpo))


@pytest.mark.parametrize("name", ["entering", "dispatch", "queryset", "as_view"])
def test_a_cross_company_view_overriding_a_gate_is_refused_at_import(name):
    with pytest.raises(TypeError, match="skip a gate"):
        type("Leaky", (GatedCrossCompanyAdminView,), {name: lambda self, *a, **k: None})
