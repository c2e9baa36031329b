"""Leak 5 of issue 13: raising a data-subject request was an oracle.

A supervisor at globex, whose DPA withholds phone numbers, or the DPO at initech, which has no DPA
in force, raised a request in the admin for a guessed number, and the request's result showed how
many calls, messages and contacts matched, with their ids. Written from their side: for a number
that exists and one that does not, everything they can see is the same, and no count or id of the
match appears. The match goes to the controller's own people, the client admins, in their portal.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import DataSubjectRequest
from tenants.models import User

pytestmark = pytest.mark.django_db

RAISE = "/admin/audit/datasubjectrequest/raise/"
LIST = "/admin/audit/datasubjectrequest/"
EXISTS, GUESSED = "+37255597001", "+37255597999"
DATES = {"raised_at", "due_at", "completed_at"}


def _u(username: str) -> User:
    return User.objects.get(username=username)


class _Cells(HTMLParser):
    """The text of each admin field (`field-<name>`: form rows and changelist cells), per table row."""

    def __init__(self):
        super().__init__()
        self.rows: list[dict[str, str]] = [{}]
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append({})
        classes = (dict(attrs).get("class") or "").split()
        name = next((c[len("field-") :] for c in classes if c.startswith("field-")), None)
        if tag not in ("br", "input", "img", "hr", "meta", "link"):
            self._open.append((tag, name))
            if name is not None:
                self.rows[-1].setdefault(name, "")

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, name in self._open:
            if name is not None:
                self.rows[-1][name] += data.strip()


def _cells(html: str) -> list[dict[str, str]]:
    parser = _Cells()
    parser.feed(html)
    return [{k: v for k, v in row.items() if k not in DATES} for row in parser.rows if row]


@pytest.fixture
def person_in(db):
    """A caller with a number, a call and a message, in the given company."""
    from answering.models import Call, Line, Message
    from crm.services import contact_create

    def make(company):
        with tenant_context(company):
            contact = contact_create(name="Oracle Probe", phone_number=EXISTS, actor=None)
            call = Call.objects.create(
                line=Line.objects.first(),
                telephony_sid="CAoracle" + "0" * 26,
                started_at=timezone.now(),
                caller_number=EXISTS,
                contact=contact,
            )
            Message.objects.create(line=call.line, call=call, contact=contact, body="Please call back")
            return contact

    return make


def _raise(client, kind: str, number: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(RAISE, {"kind": kind, "phone_number": number}, follow=True)
    with tenant_context(client.company):
        dsr = DataSubjectRequest.objects.order_by("-pk").first()
    looked_up = [q["sql"] for q in queries if "crm_contact" in q["sql"] or "answering_call" in q["sql"]]
    return response, dsr, looked_up


def _words(response) -> list[str]:
    return [re.sub(r"#\d+", "#n", str(message)) for message in response.context["messages"]]


def _seen(client, dsr) -> dict:
    """What the raiser can see of one request: its change page and its changelist row."""
    change = client.get(f"{LIST}{dsr.pk}/change/")
    assert change.status_code == 200
    listing = client.get(LIST).content.decode()
    row = next(r for r in _cells(listing) if r.get("__str__", "").endswith(f"#{dsr.pk}"))
    return {"change": _cells(change.content.decode()), "row": {k: v for k, v in row.items() if k != "__str__"}}


@pytest.mark.parametrize(
    ("username", "slug", "kind"),
    [("supervisor", "globex", "access"), ("dpo", "initech", "access"), ("dpo", "initech", "erasure")],
)
def test_raising_for_a_number_that_exists_looks_like_raising_for_one_that_does_not(
    admin_for, person_in, username, slug, kind
):
    from tenants.models import ClientCompany

    company = ClientCompany.objects.get(schema_name=slug)
    contact = person_in(company)
    client = admin_for(_u(username), slug)
    client.company = company
    found, found_dsr, found_lookups = _raise(client, kind, EXISTS)
    missed, missed_dsr, missed_lookups = _raise(client, kind, GUESSED)

    # Nothing the raiser can open afterwards tells the two apart, or names a count or an id.
    seen_found, seen_missed = _seen(client, found_dsr), _seen(client, missed_dsr)
    shown = " ".join(" ".join(row.values()) for row in [*seen_found["change"], seen_found["row"]]).lower()
    shown = re.sub(r"\(art\. \d+\)", "", shown)  # the kind of request names its article
    for word in ("contact", "calls", "messages", "appointments", "found"):
        assert word not in shown, word
    assert not re.search(r"\d", shown), shown  # no count, no id
    assert seen_found == seen_missed
    # The same answer: the same page, the same words (the request's own number aside), and no
    # looking for the person while they wait, so no difference in time either.
    assert found.redirect_chain == missed.redirect_chain
    assert _words(found) == _words(missed)
    assert found_lookups == missed_lookups == []
    # Nor does a tampered filter on what the request found.
    for tampered in ({"result__contacts": "1"}, {"result__contact_ids__contains": str(contact.pk)}, {"status": "done"}):
        assert client.get(LIST, tampered).status_code == 400, tampered
    # The processor carried nothing out: the request is the controller's to answer.
    with tenant_context(company):
        contact.refresh_from_db()
        assert contact.name == "Oracle Probe"
        assert found_dsr.status == DataSubjectRequest.Status.OPEN


def test_the_match_goes_to_the_controllers_admins_and_stays_hidden_from_the_raiser(
    admin_for, client_for, person_in, globex
):
    person_in(globex)
    supervisor = admin_for(_u("supervisor"), "globex")
    supervisor.company = globex
    _, found_dsr, _ = _raise(supervisor, "access", EXISTS)
    _, missed_dsr, _ = _raise(supervisor, "access", GUESSED)

    portal = client_for("globex.localhost", _u("globex-admin"))
    assert f"/data-requests/{found_dsr.pk}/" in portal.get("/data-requests/").content.decode()
    for dsr in (found_dsr, missed_dsr):
        page = portal.get(f"/data-requests/{dsr.pk}/").content.decode()
        assert "Carry it out" in page
        assert portal.post(f"/data-requests/{dsr.pk}/carry-out/").status_code == 302
    found_page = portal.get(f"/data-requests/{found_dsr.pk}/").content.decode()
    assert "Contact records: 1" in found_page
    assert "Messages: 1" in found_page
    assert "Contact records: 0" in portal.get(f"/data-requests/{missed_dsr.pk}/").content.decode()

    # Done now, for the controller; the supervisor still cannot tell the two apart.
    assert _seen(supervisor, found_dsr) == _seen(supervisor, missed_dsr)
    assert (
        client_for("globex.localhost", _u("acme-admin")).post(f"/data-requests/{found_dsr.pk}/carry-out/").status_code
        == 404
    )


def test_staff_whose_dpa_grants_the_identifiers_see_what_their_request_found(admin_for, person_in, acme):
    from compliance.agreements.models import AgreementVersion, CategoryGrant

    version = AgreementVersion.objects.get(agreement__company=acme, status="active")
    CategoryGrant.objects.create(version=version, role="supervisor", category="user.contact", action="read")
    person_in(acme)
    client = admin_for(_u("supervisor"), "acme")
    client.company = acme
    response, dsr, _ = _raise(client, "access", EXISTS)
    assert dsr.status == DataSubjectRequest.Status.DONE
    assert "1 contact record" in " ".join(str(m) for m in response.context["messages"])
    assert any("contacts" in row.get("result", "") for row in _seen(client, dsr)["change"])
