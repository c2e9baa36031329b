"""The gates in the Django admin, tested from the side of the person who must not see the data.

Demo world: acme's DPA grants agents names, numbers, e-mail, content and voice (not health);
globex's grants names and content only; initech has only a submitted version. agent2 works for
acme only, with a grant on the reception line (+3726001001) and not on emergencies (+3726001002).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line
from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from crm.models import Contact
from tenants.models import User

pytestmark = pytest.mark.django_db

CALLS = "/admin/answering/call/"
CONTACTS = "/admin/crm/contact/"


@pytest.fixture
def dpo(db) -> User:
    return User.objects.get(username="dpo")


@pytest.fixture
def supervisor(db) -> User:
    return User.objects.get(username="supervisor")


def _call(company, number: str) -> Call:
    with tenant_context(company):
        return Call.objects.filter(line__phone_number=number).order_by("telephony_sid").first()


def _active(company) -> AgreementVersion:
    return AgreementVersion.objects.get(agreement__company=company, status="active")


# ---- gate 2: objects -------------------------------------------------------------------------


def test_agent_sees_only_calls_on_granted_lines(admin_for, agent2, acme):
    granted, other = _call(acme, "+3726001001"), _call(acme, "+3726001002")
    page = admin_for(agent2, "acme").get(CALLS).content.decode()
    assert granted.telephony_sid in page
    assert other.telephony_sid not in page
    assert "4 calls" in page


def test_call_on_a_line_without_a_grant_is_404_on_every_url(admin_for, agent2, acme):
    other = _call(acme, "+3726001002")
    client = admin_for(agent2, "acme")
    for suffix in ("change/", "history/", "delete/"):
        assert client.get(f"{CALLS}{other.pk}/{suffix}").status_code == 404
    assert client.get(f"{CALLS}{_call(acme, '+3726001001').pk}/change/").status_code == 200


def test_call_on_a_line_without_a_grant_cannot_be_found_by_search(admin_for, agent2, acme):
    other = _call(acme, "+3726001002")
    page = admin_for(agent2, "acme").get(CALLS, {"q": other.telephony_sid}).content.decode()
    assert f"{CALLS}{other.pk}/change/" not in page
    assert "0 results" in page


def test_granting_a_line_opens_its_calls_on_the_next_request(admin_for, agent2, acme):
    from guardian.shortcuts import assign_perm, remove_perm

    other = _call(acme, "+3726001002")
    client = admin_for(agent2, "acme")
    with tenant_context(acme):
        assign_perm("answering.view_line", agent2, Line.objects.get(phone_number="+3726001002"))
    assert client.get(f"{CALLS}{other.pk}/change/").status_code == 200
    with tenant_context(acme):
        remove_perm("answering.view_line", agent2, Line.objects.get(phone_number="+3726001002"))
    assert client.get(f"{CALLS}{other.pk}/change/").status_code == 404


def test_supervisor_sees_every_call_of_an_assigned_company(admin_for, supervisor, acme):
    page = admin_for(supervisor, "acme").get(CALLS).content.decode()
    assert "8 calls" in page


def test_restricted_contact_needs_an_individual_grant(admin_for, agent2, acme):
    from guardian.shortcuts import assign_perm

    with tenant_context(acme):
        vip = Contact.objects.get(restricted=True)
        open_one = Contact.objects.filter(restricted=False).first()
    client = admin_for(agent2, "acme")
    assert client.get(f"{CONTACTS}{vip.pk}/change/").status_code == 404
    assert client.get(f"{CONTACTS}{open_one.pk}/change/").status_code == 200
    with tenant_context(acme):
        assign_perm("crm.view_contact", agent2, vip)
    assert client.get(f"{CONTACTS}{vip.pk}/change/").status_code == 200


# ---- gate 1 in the admin -----------------------------------------------------------------------


def test_switcher_lists_only_assigned_companies_and_refuses_others(admin_for, agent2):
    client = admin_for(agent2)
    page = client.get("/admin/switch/").content.decode()
    assert "Acme Dental Clinic" in page
    assert "Globex" not in page
    assert client.post("/admin/switch/", {"company": "globex"}).status_code == 404
    assert client.post("/admin/switch/", {"company": "acme"}).status_code == 302


def test_a_forged_company_in_the_session_is_ignored(admin_for, agent2):
    # agent2 is not assigned to globex: the tenant gate ignores the selection, nothing of globex shows.
    response = admin_for(agent2, "globex").get(CALLS)
    assert response.status_code == 302
    assert response["Location"] == "/admin/switch/"


def test_client_users_and_unverified_staff_cannot_use_the_admin(client_for, acme_admin, agent1):
    assert client_for("localhost", acme_admin).get("/admin/").status_code == 302  # not staff
    unverified = client_for("localhost", agent1).get("/admin/")  # signed in, but no second factor
    assert unverified.status_code == 302
    assert unverified["Location"].startswith("/admin/login/")


# ---- gate 3: fields ----------------------------------------------------------------------------


def test_globex_agents_never_see_a_callers_number(admin_for, agent1, globex):
    call = _call(globex, "+3726002001")
    client = admin_for(agent1, "globex")
    with tenant_context(globex):
        number, name = call.caller_number, call.caller_name
    listing = client.get(CALLS).content.decode()
    form = client.get(f"{CALLS}{call.pk}/change/").content.decode()
    for page in (listing, form):
        assert number not in page
        assert "restricted by DPA" in page
        assert name in page  # names are granted to globex's agents


def test_acme_agents_see_granted_contact_fields_but_never_health(admin_for, agent1, acme):
    with tenant_context(acme):
        contact = Contact.objects.create(
            name="Tiina Vaher",
            phone_number="+37255500001",
            email="tiina@example.ee",
            health_notes="Allergic to penicillin",
        )
    page = admin_for(agent1, "acme").get(f"{CONTACTS}{contact.pk}/change/").content.decode()
    assert "Tiina Vaher" in page
    assert "+37255500001" in page
    assert "Allergic to penicillin" not in page
    assert "restricted by DPA" in page


def test_initech_without_an_active_dpa_shows_no_personal_field(admin_for, agent1, initech):
    call = _call(initech, "+3726003001")
    with tenant_context(initech):
        secrets = [call.caller_number, call.caller_name, call.notes]
    client = admin_for(agent1, "initech")
    for url in (CALLS, f"{CALLS}{call.pk}/change/", CONTACTS):
        page = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in page


def test_dpo_sees_call_metadata_but_no_content(admin_for, dpo, acme):
    call = _call(acme, "+3726001001")
    with tenant_context(acme):
        secrets = [call.caller_number, call.caller_name, call.notes]
    page = admin_for(dpo, "acme").get(f"{CALLS}{call.pk}/change/").content.decode()
    assert call.telephony_sid in page
    for secret in secrets:
        assert secret not in page


def test_terminating_the_dpa_hides_fields_on_the_very_next_request(admin_for, agent1, dpo, acme):
    call = _call(acme, "+3726001001")
    with tenant_context(acme):
        number = call.caller_number
    client = admin_for(agent1, "acme")
    assert number in client.get(CALLS).content.decode()

    dpa.dpa_terminate(version=_active(acme), actor=dpo, reason="client withdrew")

    page = client.get(CALLS).content.decode()
    assert number not in page
    assert "restricted by DPA" in page


def test_an_expired_dpa_grants_nothing_even_before_the_expiry_job_runs(admin_for, agent1, acme):
    call = _call(acme, "+3726001001")
    with tenant_context(acme):
        number = call.caller_number
    version = _active(acme)
    AgreementVersion.objects.filter(pk=version.pk).update(
        start_date=timezone.localdate() - dt.timedelta(days=400), end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert number not in admin_for(agent1, "acme").get(CALLS).content.decode()


def test_tampered_lookup_on_a_gated_field_is_a_400(admin_for, agent1, globex):
    call = _call(globex, "+3726002001")
    with tenant_context(globex):
        number = call.caller_number
    response = admin_for(agent1, "globex").get(CALLS, {"caller_number": number})
    assert response.status_code == 400
    assert number.encode() not in response.content


def test_tampered_ordering_by_a_gated_column_reveals_nothing(admin_for, agent1, globex):
    call = _call(globex, "+3726002001")
    with tenant_context(globex):
        number = call.caller_number
    # Column 6 is caller_number; a masked column is not orderable, so the request is plain.
    response = admin_for(agent1, "globex").get(CALLS, {"o": "6"})
    assert response.status_code == 200
    assert number.encode() not in response.content


def test_export_leaves_out_gated_columns(admin_for, agent1, globex):
    with tenant_context(globex):
        calls = list(Call.objects.all())
        numbers = [c.caller_number for c in calls]
    response = admin_for(agent1, "globex").post(
        CALLS, {"action": "export_csv", "_selected_action": [c.pk for c in calls]}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "Caller name" in body.splitlines()[0]
    assert "Caller number" not in body
    for number in numbers:
        assert number not in body


def test_inline_calls_on_a_line_are_masked_too(admin_for, agent1, globex):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        numbers = [c.caller_number for c in line.calls.all()]
    page = admin_for(agent1, "globex").get(f"/admin/answering/line/{line.pk}/change/").content.decode()
    assert "restricted by DPA" in page
    for number in numbers:
        assert number not in page


def test_history_shows_no_values(admin_for, agent1, acme):
    call = _call(acme, "+3726001001")
    with tenant_context(acme):
        number = call.caller_number
    response = admin_for(agent1, "acme").get(f"{CALLS}{call.pk}/history/")
    assert response.status_code == 200
    assert number.encode() not in response.content


def test_a_posted_gated_field_is_ignored(admin_for, agent1, globex):
    call = _call(globex, "+3726002001")
    with tenant_context(globex):
        before = call.caller_number
    response = admin_for(agent1, "globex").post(
        f"{CALLS}{call.pk}/change/",
        {"status": "completed", "caller_name": "Changed Name", "caller_number": "+37200000000", "notes": "n"},
    )
    assert response.status_code in (200, 302)
    with tenant_context(globex):
        call.refresh_from_db()
        assert call.caller_number == before


def test_gated_admins_refuse_overrides_of_gate_methods():
    from gates.admin import GatedModelAdmin

    with pytest.raises(TypeError, match="get_queryset"):

        class Leaky(GatedModelAdmin):
            def get_queryset(self, request):
                return Call.objects.all()


def test_search_fields_on_gated_fields_are_dropped(rf, agent1, globex):
    from django.contrib import admin as django_admin

    from gates.admin import GatedModelAdmin
    from gates.selection import SESSION_KEY

    class FilterAll(GatedModelAdmin):
        search_fields = ["telephony_sid", "line__name"]
        list_filter = ["caller_number", "caller_name", "status"]

    request = rf.get("/admin/")
    request.user = agent1
    request.session = {SESSION_KEY: "globex"}
    model_admin = FilterAll(Call, django_admin.site)
    assert model_admin.get_list_filter(request) == ["caller_name", "status"]  # the number is not granted
    assert model_admin.get_search_fields(request) == ["telephony_sid", "line__name"]


def test_encrypted_fields_cannot_be_declared_searchable():
    from django.contrib import admin as django_admin

    from gates.admin import GatedModelAdmin

    class SearchEncrypted(GatedModelAdmin):
        search_fields = ["telephony_sid", "caller_name"]

    with pytest.raises(TypeError, match="encrypted"):
        SearchEncrypted(Call, django_admin.site)


def test_masked_fields_are_never_decrypted_not_even_of_related_records(admin_for, agent1, globex):
    from tenants.crypto import EncryptedMixin

    with tenant_context(globex):
        call = _call(globex, "+3726002001")
    decrypted, real_load = [], EncryptedMixin._load

    def counting_load(field, value):
        decrypted.append(f"{field.model._meta.model_name}.{field.name}")
        return real_load(field, value)

    EncryptedMixin._load = counting_load
    try:
        client = admin_for(agent1, "globex")
        client.get(CALLS)
        client.get(f"{CALLS}{call.pk}/change/")
    finally:
        EncryptedMixin._load = real_load
    assert decrypted, "the pages do decrypt what the DPA grants"
    # globex grants names and content: no number, e-mail, address or health note is ever decrypted,
    # neither the call's own nor those of the contact the call names.
    assert {
        "call.caller_number",
        "contact.phone_number",
        "contact.email",
        "contact.address",
        "contact.health_notes",
    }.isdisjoint(decrypted)


def test_the_changelist_makes_as_many_queries_for_many_rows_as_for_few(admin_for, supervisor, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = admin_for(supervisor, "acme")
    client.get(CALLS)  # warm the session and the caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CALLS).status_code == 200
        return len(captured)

    few = queries()
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        contact = Contact.objects.first()
        for n in range(30):
            Call.objects.create(
                line=line, telephony_sid=f"CAmany{n:02d}".ljust(34, "x"), started_at=timezone.now(), contact=contact
            )
    assert queries() == few
