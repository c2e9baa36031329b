"""The portal's audit pages: the access log with its filters and CSV, data-subject requests, and the
statistics; each from the side of the person who must not see the data, too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
import zoneinfo
from unittest import mock

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import AccessLogEntry, DataSubjectRequest, LineDayStats
from crm.models import Contact
from crm.services import contact_create
from gates.signals import report_read, report_refused
from tenants.models import ClientCompany, Membership, User

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")


def _read_at(when: dt.datetime, **kwargs) -> AccessLogEntry:
    """An access-log entry as the gates write it, at a chosen time (the row's `at` is auto_now_add)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        report_read(**kwargs)
    return AccessLogEntry.objects.order_by("-pk").first()


@pytest.fixture
def acme_log(acme, agent1, agent2, acme_admin):
    """Reads of acme's data: agent1 on contacts (2 March just after midnight in Tallinn, still 1 March
    in UTC), agent2 on calls (5 March), a task building an e-mail (5 March), a refusal (6 March), and
    acme-admin's own read."""
    with tenant_context(acme):
        contact = Contact.objects.order_by("pk").first()
        call = Call.objects.order_by("pk").first()
        entries = {
            "agent1": _read_at(
                dt.datetime(2026, 3, 2, 0, 30, tzinfo=TALLINN),
                user=agent1,
                channel="admin",
                model=Contact,
                object_ids=[contact.pk],
                fields=["name", "phone_number"],
            ),
            "agent2": _read_at(
                dt.datetime(2026, 3, 5, 9, 0, tzinfo=TALLINN),
                user=agent2,
                channel="api",
                model=Call,
                object_ids=[call.pk],
                fields=["caller_name"],
            ),
            "task": _read_at(
                dt.datetime(2026, 3, 5, 10, 0, tzinfo=TALLINN),
                user=None,
                channel="task",
                model=Call,
                object_ids=[call.pk],
                fields=["caller_number"],
            ),
            "own": _read_at(
                dt.datetime(2026, 3, 5, 11, 0, tzinfo=TALLINN),
                user=acme_admin,
                channel="portal",
                model=Contact,
                object_ids=[contact.pk],
                fields=["notes"],
            ),
        }
        with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2026, 3, 6, 9, 0, tzinfo=TALLINN)):
            report_refused(user=agent2, channel="admin", model=Call, object_id=call.pk, path="/admin/x/")
        entries["refused"] = AccessLogEntry.objects.order_by("-pk").first()
    return entries


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# ---- access log --------------------------------------------------------------------------------


def test_the_access_log_shows_the_providers_reads_and_not_the_companys_own(client_for, acme_admin, acme_log):
    page = client_for("acme.localhost", acme_admin).get("/access-log/")
    assert page.status_code == 200
    html = page.content.decode()
    for who in ("agent1", "agent2", "(automatic task)"):
        assert who in html
    assert "Refused" in html
    rows = _rows(client_for("acme.localhost", acme_admin).get("/access-log/export.csv"))
    whos = [(r["who"], r["role"], r["channel"]) for r in rows]
    assert ("agent1", "agent", "admin") in whos
    assert ("", "task", "task") in whos
    assert not any(r["who"] == "acme-admin" for r in rows)  # the company's own reads are another view
    own = _rows(client_for("acme.localhost", acme_admin).get("/access-log/export.csv?reader=company"))
    assert [(r["who"], r["fields"]) for r in own] == [("acme-admin", "notes")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("person={agent1}", {"agent1"}),
        ("person=task", {"task"}),
        ("record_type=crm.Contact", {"agent1"}),
        ("channel=api", {"agent2"}),
        ("outcome=refused", {"refused"}),
        # 2 March 00:30 in Tallinn is 1 March 22:30 UTC: the company's day is 2 March.
        ("date_from=2026-03-01&date_to=2026-03-01", set()),
        ("date_from=2026-03-02&date_to=2026-03-02", {"agent1"}),
        ("date_from=2026-03-02&date_to=2026-03-05", {"agent1", "agent2", "task"}),
        ("date_from=2026-03-05&channel=task", {"task"}),
    ],
)
def test_the_access_log_filters(client_for, acme_admin, agent1, acme_log, query, expected):
    query = query.format(agent1=agent1.pk)
    rows = _rows(client_for("acme.localhost", acme_admin).get(f"/access-log/export.csv?{query}"))
    mine = {e.at: name for name, e in acme_log.items()}
    found = {mine[at] for at in (dt.datetime.fromisoformat(r["at"]) for r in rows) if at in mine}
    assert found == expected
    page = client_for("acme.localhost", acme_admin).get(f"/access-log/?{query}")
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2026-03-05&date_to=2026-03-01", "date_to"),
        ("date_from=yesterday", "date_from"),
        ("person=999999", "person"),
        ("channel=carrier-pigeon", "channel"),
        ("record_type=auth.User", "record_type"),
        ("ordering=password", "ordering"),
    ],
)
def test_bad_access_log_filters_are_named_errors(client_for, acme_admin, acme_log, query, field):
    client = client_for("acme.localhost", acme_admin)
    page = client.get(f"/access-log/?{query}")
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert client.get(f"/access-log/export.csv?{query}").status_code == 400
    api = client.get(f"/api/v1/access-log/?{query}")
    assert api.status_code == 400
    assert field in api.json()


def test_the_csv_cannot_smuggle_a_formula(client_for, acme, acme_admin):
    from gates.exports import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("-12") == "-12"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"


def test_the_access_log_is_for_client_admins_of_the_company_only(
    client_for, acme, globex, acme_admin, globex_admin, acme_log
):
    member = User.objects.create(username="acme-member-log")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert client_for("acme.localhost", member).get("/access-log/").status_code == 404
    assert client_for("acme.localhost", member).get("/access-log/export.csv").status_code == 404
    assert client_for("acme.localhost", member).get("/api/v1/access-log/").status_code == 403
    assert client_for("acme.localhost", globex_admin).get("/access-log/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/api/v1/access-log/").status_code == 404
    # On its own host, globex's log has none of acme's reads, on any channel.
    client = client_for("globex.localhost", globex_admin)
    agent1_in_acme = acme_log["agent1"]
    for url in ("/access-log/export.csv?reader=all", "/access-log/export.csv"):
        rows = _rows(client.get(url))
        assert agent1_in_acme.at.isoformat() not in {r["at"] for r in rows}
    api = client.get("/api/v1/access-log/?reader=all&limit=500").json()["results"]
    assert all(row["at"] != agent1_in_acme.at.isoformat().replace("+00:00", "Z") for row in api)
    # globex's person filter does not even offer acme's readers it has never seen.
    with tenant_context(globex):
        globex_readers = set(AccessLogEntry.objects.values_list("user_id", flat=True))
    if acme_log["agent2"].user_id not in globex_readers:
        assert client.get(f"/access-log/?person={acme_log['agent2'].user_id}").status_code == 400


def test_the_api_filters_and_orders_the_access_log(client_for, acme_admin, agent1, acme_log):
    client = client_for("acme.localhost", acme_admin)
    rows = client.get(f"/api/v1/access-log/?person={agent1.pk}").json()["results"]
    assert {(r["who"], r["object_type"], tuple(r["fields"])) for r in rows} >= {
        ("agent1", "crm.Contact", ("name", "phone_number"))
    }
    assert all(r["user_id"] == agent1.pk for r in rows)
    period = "date_from=2026-03-01&date_to=2026-03-06"
    oldest_first = client.get(f"/api/v1/access-log/?{period}&ordering=at").json()["results"]
    assert [r["who"] for r in oldest_first] == ["agent1", "agent2", "(automatic task)", "agent2"]
    assert oldest_first[-1]["refused"] is True
    newest_first = client.get(f"/api/v1/access-log/?{period}").json()["results"]
    assert newest_first == list(reversed(oldest_first))


# ---- data-subject requests ---------------------------------------------------------------------


@pytest.fixture
def subject(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        person = contact_create(
            name="Portal Subject", phone_number="+37255591111", email="portal@example.ee", actor=None
        )
        call = Call.objects.create(
            line=line,
            telephony_sid="CAportal".ljust(34, "0"),
            started_at=timezone.now(),
            caller_number=person.phone_number,
            caller_name=person.name,
            contact=person,
        )
        Message.objects.create(line=line, call=call, contact=person, body="Portal subject's message")
        yield person


def test_an_access_request_raised_in_the_portal_is_done_and_downloadable(acme, client_for, acme_admin, subject):
    client = client_for("acme.localhost", acme_admin)
    raised = client.post("/data-requests/", {"kind": "access", "phone_number": "+372 5559 1111"})
    assert raised.status_code == 302
    with tenant_context(acme):
        dsr = DataSubjectRequest.objects.order_by("-pk").first()
    assert raised["Location"] == f"/data-requests/{dsr.pk}/"
    detail = client.get(raised["Location"])
    html = detail.content.decode()
    assert dsr.get_status_display() in html
    assert "+37255591111" in html  # the client admin sees whom it was for...
    download = client.get(f"/data-requests/{dsr.pk}/export/")
    records = zipfile.ZipFile(io.BytesIO(download.content)).read("records.json").decode()
    assert "Portal subject's message" in records
    with tenant_context(acme):
        reads = list(AccessLogEntry.objects.filter(user=acme_admin).order_by("-pk")[:2])
    # ...and both the identifiers shown and the records downloaded are in the access log.
    assert {(r.channel, r.object_type) for r in reads} == {
        ("portal", "audit.DataSubjectRequest"),
        ("export", "crm.Contact"),
    }
    listing = client.get("/data-requests/?kind=access&status=done").content.decode()
    assert f"/data-requests/{dsr.pk}/" in listing
    assert f"/data-requests/{dsr.pk}/" not in client.get("/data-requests/?kind=erasure").content.decode()


def test_an_erasure_must_be_confirmed_and_then_erases(acme, client_for, acme_admin, subject):
    client = client_for("acme.localhost", acme_admin)
    with tenant_context(acme):
        before = DataSubjectRequest.objects.count()
    unconfirmed = client.post("/data-requests/", {"kind": "erasure", "email": "portal@example.ee"})
    assert unconfirmed.status_code == 400
    assert "confirm_erasure" in unconfirmed.context["raise_form"].errors
    with tenant_context(acme):
        assert DataSubjectRequest.objects.count() == before
        assert Contact.objects.get(pk=subject.pk).name == "Portal Subject"
    done = client.post("/data-requests/", {"kind": "erasure", "email": "portal@example.ee", "confirm_erasure": "on"})
    assert done.status_code == 302
    html = client.get(done["Location"]).content.decode()
    assert "Contact records anonymised" in html
    assert "Call stubs" in html  # what was kept, and why
    with tenant_context(acme):
        assert Contact.objects.get(pk=subject.pk).name == "Erased data subject"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "access"}, "phone_number"),
        ({"kind": "access", "phone_number": "call me"}, "phone_number"),
        ({"kind": "access", "email": "not-an-address"}, "email"),
        ({"kind": "rectification", "phone_number": "+37255591111"}, "new_name"),
        ({"kind": "rectification", "phone_number": "+37255591111", "new_phone_number": "12"}, "new_phone_number"),
        ({"kind": "access", "phone_number": "+37255591111", "new_name": "X"}, "kind"),
        ({"kind": "forgetting", "phone_number": "+37255591111"}, "kind"),
    ],
)
def test_a_bad_request_is_a_named_error_and_stores_nothing(acme, client_for, acme_admin, subject, data, field):
    with tenant_context(acme):
        before = DataSubjectRequest.objects.count()
    response = client_for("acme.localhost", acme_admin).post("/data-requests/", data)
    assert response.status_code == 400
    assert field in response.context["raise_form"].errors
    with tenant_context(acme):
        assert DataSubjectRequest.objects.count() == before


def test_a_rectification_in_the_portal_corrects_the_person(acme, client_for, acme_admin, subject):
    response = client_for("acme.localhost", acme_admin).post(
        "/data-requests/", {"kind": "rectification", "email": "portal@example.ee", "new_name": "Portal Subject-Fixed"}
    )
    assert response.status_code == 302
    with tenant_context(acme):
        assert Contact.objects.get(pk=subject.pk).name == "Portal Subject-Fixed"


def test_members_follow_requests_but_only_admins_raise_and_download(acme, client_for, acme_admin, subject):
    client_for("acme.localhost", acme_admin).post("/data-requests/", {"kind": "access", "email": "portal@example.ee"})
    with tenant_context(acme):
        dsr = DataSubjectRequest.objects.order_by("-pk").first()
        before = DataSubjectRequest.objects.count()
    member = User.objects.create(username="acme-member-dsr")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    client = client_for("acme.localhost", member)
    listing = client.get("/data-requests/")
    assert listing.status_code == 200
    assert "Raise a request" not in listing.content.decode()
    assert client.get(f"/data-requests/{dsr.pk}/").status_code == 200
    assert (
        client.post(
            "/data-requests/", {"kind": "erasure", "email": "portal@example.ee", "confirm_erasure": "on"}
        ).status_code
        == 404
    )
    assert client.get(f"/data-requests/{dsr.pk}/export/").status_code == 404
    assert (
        client.post(
            "/api/v1/data-subject-requests/",
            {"kind": "access", "email": "portal@example.ee"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/data-subject-requests/{dsr.pk}/export/").status_code == 403
    with tenant_context(acme):
        assert DataSubjectRequest.objects.count() == before


def _an_acme_only_request(acme, globex, acme_admin) -> DataSubjectRequest:
    """An acme request whose id globex does not have (ids are per schema)."""
    with tenant_context(globex):
        globex_max = max(DataSubjectRequest.objects.order_by("-pk").values_list("pk", flat=True)[:1] or [0])
    with tenant_context(acme):
        from audit.dsr import dsr_raise

        dsr = dsr_raise(kind="access", phone_number="+37255591111", actor=acme_admin)
        while dsr.pk <= globex_max:
            dsr = dsr_raise(kind="access", phone_number="+37255591111", actor=acme_admin)
    return dsr


def test_globex_cannot_reach_acmes_requests(acme, globex, client_for, acme_admin, globex_admin, subject):
    dsr = _an_acme_only_request(acme, globex, acme_admin)
    other_host = client_for("acme.localhost", globex_admin)
    for url in (
        "/data-requests/",
        f"/data-requests/{dsr.pk}/",
        f"/data-requests/{dsr.pk}/export/",
        f"/api/v1/data-subject-requests/{dsr.pk}/",
        f"/api/v1/data-subject-requests/{dsr.pk}/export/",
    ):
        assert other_host.get(url).status_code == 404, url
    own_host = client_for("globex.localhost", globex_admin)
    for url in (
        f"/data-requests/{dsr.pk}/",
        f"/data-requests/{dsr.pk}/export/",
        f"/api/v1/data-subject-requests/{dsr.pk}/",
        f"/api/v1/data-subject-requests/{dsr.pk}/export/",
    ):
        assert own_host.get(url).status_code == 404, url
    assert f"/data-requests/{dsr.pk}/" not in own_host.get("/data-requests/").content.decode()
    api_ids = {r["id"] for r in own_host.get("/api/v1/data-subject-requests/?limit=500").json()["results"]}
    assert dsr.pk not in api_ids


def test_the_request_api_filters_and_shows_one_request(acme, client_for, acme_admin, subject):
    client = client_for("acme.localhost", acme_admin)
    created = client.post(
        "/api/v1/data-subject-requests/",
        {"kind": "access", "email": "portal@example.ee"},
        content_type="application/json",
    ).json()
    kinds = {r["kind"] for r in client.get("/api/v1/data-subject-requests/?kind=access").json()["results"]}
    assert kinds == {"access"}
    assert client.get("/api/v1/data-subject-requests/?kind=erasure&status=done").status_code == 200
    bad = client.get("/api/v1/data-subject-requests/?status=lost&ordering=name")
    assert bad.status_code == 400
    assert set(bad.json()) == {"status", "ordering"}
    detail = client.get(f"/api/v1/data-subject-requests/{created['id']}/").json()
    assert (detail["email"], detail["has_export"], detail["status"]) == ("portal@example.ee", True, "done")
    with tenant_context(acme):
        read = AccessLogEntry.objects.filter(user=acme_admin).order_by("-pk").first()
    assert (read.channel, read.object_type, read.fields) == (
        "api",
        "audit.DataSubjectRequest",
        ["email", "phone_number"],
    )


# ---- statistics --------------------------------------------------------------------------------

DAY = dt.date(2026, 4, 10)


@pytest.fixture
def stats(acme):
    """Two lines on one day, one line the next day, and a day outside the period."""
    with tenant_context(acme):
        reception = Line.objects.get(phone_number="+3726001001")
        emergencies = Line.objects.get(phone_number="+3726001002")
        rows = [
            LineDayStats.objects.create(
                line=reception,
                day=DAY,
                offered=10,
                answered=8,
                abandoned=1,
                voicemails=1,
                answer_p50_seconds=10,
                answer_p90_seconds=30,
                within_target_share=0.75,
                messages=3,
            ),
            LineDayStats.objects.create(
                line=emergencies,
                day=DAY,
                offered=10,
                answered=2,
                abandoned=8,
                voicemails=0,
                answer_p50_seconds=60,
                answer_p90_seconds=90,
                within_target_share=0.0,
            ),
            LineDayStats.objects.create(line=reception, day=DAY + dt.timedelta(days=1), offered=4, answered=4),
            LineDayStats.objects.create(line=reception, day=DAY - dt.timedelta(days=40), offered=99, answered=99),
        ]
        yield rows


def test_the_statistics_are_drawn_and_tabled_for_the_period(client_for, acme_admin, stats):
    page = client_for("acme.localhost", acme_admin).get("/analytics/?date_from=2026-04-01&date_to=2026-04-15")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 4
    for part in ('role="img"', "<title", "<desc"):
        assert part in html
    days = {d.day: d for d in page.context["days"]}
    assert len(days) == 15
    first = days[DAY]
    assert (first.offered, first.answered, first.abandoned, first.voicemails) == (20, 10, 9, 1)
    assert first.abandoned_share == pytest.approx(9 / 20)
    assert first.within_target_share == pytest.approx((0.75 * 8 + 0 * 2) / 10)  # exact over both lines
    assert first.answer_p50_seconds == pytest.approx((10 * 8 + 60 * 2) / 10)
    assert page.context["totals"]["offered"] == 24  # the day 40 days before is outside the period
    assert not days[dt.date(2026, 4, 1)].has_data


def test_the_statistics_narrow_to_a_line_and_export(client_for, acme_admin, stats):
    client = client_for("acme.localhost", acme_admin)
    line = stats[1].line
    page = client.get(f"/analytics/?date_from=2026-04-01&date_to=2026-04-15&line={line.pk}")
    assert page.context["totals"]["offered"] == 10
    rows = _rows(client.get(f"/analytics/export.csv?date_from=2026-04-01&date_to=2026-04-15&line={line.pk}"))
    assert [(r["day"], r["line"], r["offered"], r["abandoned"]) for r in rows] == [("2026-04-10", line.name, "10", "8")]
    api = client.get("/api/v1/analytics/line-days/?date_from=2026-04-10&date_to=2026-04-11&ordering=-day").json()
    assert [(r["day"], r["offered"]) for r in api["results"]] == [
        ("2026-04-11", 4),
        ("2026-04-10", 10),
        ("2026-04-10", 10),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2026-04-15&date_to=2026-04-01", "date_to"),
        ("date_from=2024-01-01&date_to=2026-04-01", "date_from"),
        ("line=999999", "line"),
        ("line=reception", "line"),
        ("date_to=31.04.2026", "date_to"),
    ],
)
def test_bad_statistics_filters_are_named_errors(client_for, acme_admin, stats, query, field):
    client = client_for("acme.localhost", acme_admin)
    page = client.get(f"/analytics/?{query}")
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert client.get(f"/analytics/export.csv?{query}").status_code == 400
    api = client.get(f"/api/v1/analytics/line-days/?{query}")
    assert api.status_code == 400
    assert field in api.json()


def test_members_see_the_statistics_and_globex_sees_none_of_acmes(acme, client_for, globex_admin, stats):
    member = User.objects.create(username="acme-member-stats")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert client_for("acme.localhost", member).get("/analytics/?date_from=2026-04-01").status_code == 200
    assert client_for("acme.localhost", globex_admin).get("/analytics/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/api/v1/analytics/line-days/").status_code == 404
    own = client_for("globex.localhost", globex_admin)
    period = "date_from=2026-04-01&date_to=2026-04-15"
    assert own.get(f"/analytics/?{period}").context["totals"]["offered"] == 0
    assert _rows(own.get(f"/analytics/export.csv?{period}")) == []
    assert own.get(f"/api/v1/analytics/line-days/?{period}").json()["results"] == []
    with tenant_context(ClientCompany.objects.get(schema_name="globex")):
        assert not LineDayStats.objects.filter(day=DAY).exists()


@pytest.mark.parametrize(
    ("url", "estonian"),
    [
        ("/access-log/", "Juurdepääsulogi"),
        ("/data-requests/", "Esita taotlus"),
        ("/analytics/", "Vali periood"),
        ("/team/", "Kutsu kedagi"),
    ],
)
def test_the_pages_speak_estonian(client_for, acme_admin, url, estonian):
    from django.conf import settings

    client = client_for("acme.localhost", acme_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    page = client.get(url)
    assert page.status_code == 200
    assert estonian in page.content.decode()
