"""The Service level screen, its CSV and the API, from the side of the people who must not see:
another company's admin, another company's line, and an agent in the provider's admin."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django_tenants.utils import tenant_context

from gates.context import system_context
from levels.rollup import levels_rollup
from levels.tests.conftest import BACK

pytestmark = pytest.mark.django_db
PERIOD = "date_from=2026-10-24&date_to=2026-10-25"


@pytest.fixture
def counted(acme, dst_calls):
    with tenant_context(acme), system_context(reason="test rollup"):
        levels_rollup(date_from=BACK - dt.timedelta(days=1), date_to=BACK)
    return dst_calls


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_client_sees_its_levels_drawn_and_tabled(client_for, acme_admin, counted):
    page = client_for("acme.localhost", acme_admin).get(f"/service-level/?{PERIOD}&line={counted.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 3
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]
    total = page.context["total"]
    # Both days: 8 offered, 5 answered (waits 65 + 40 = 105 s, ASA 21 s), 3 in target of 8 - 1 = 7.
    assert (total.offered, total.answered, total.asa_seconds) == (8, 5, 21)
    assert total.service_level == pytest.approx(3 / 7)
    hours = [label for label, _figures in page.context["hours"]]
    assert hours == ["00:00", "03:00 (+03:00)", "03:00 (+02:00)"]
    assert "03:00 (+02:00)" in html


def test_the_csv_and_the_api_give_the_same_rows(client_for, acme_admin, counted):
    client = client_for("acme.localhost", acme_admin)
    rows = _csv(client.get(f"/service-level/export.csv?{PERIOD}"))
    assert [(r["day"], r["hour"], r["utc_offset_minutes"], r["offered"]) for r in rows] == [
        ("2026-10-24", "23", "180", "1"),
        ("2026-10-25", "0", "180", "1"),
        ("2026-10-25", "3", "180", "4"),
        ("2026-10-25", "3", "120", "2"),
    ]
    assert rows[2]["service_level"] == "0.3333"  # 1 in target of 4 - 1 short abandon
    api = client.get(f"/api/v1/service-levels/?{PERIOD}").json()["results"]
    assert [(r["day"], r["hour"], r["offered"]) for r in api] == [
        (r["day"], int(r["hour"]), int(r["offered"])) for r in rows
    ]
    assert api[2]["abandon_rate"] == pytest.approx(1 / 3)
    assert api[3]["handle_seconds"] == pytest.approx(105)  # call 5: 60 s talk + 45 s wrap-up


def test_another_company_sees_none_of_acmes_levels(acme, globex, client_for, globex_admin, counted):
    for path in ("/service-level/", "/service-level/export.csv", "/api/v1/service-levels/"):
        assert client_for("acme.localhost", globex_admin).get(f"{path}?{PERIOD}").status_code == 404
    own = client_for("globex.localhost", globex_admin)
    page = own.get(f"/service-level/?{PERIOD}")
    assert page.status_code == 200
    assert page.context["total"].offered == 0
    assert own.get(f"/api/v1/service-levels/?{PERIOD}").json()["results"] == []
    assert _csv(own.get(f"/service-level/export.csv?{PERIOD}")) == []


def test_another_companys_line_id_is_not_found(acme, globex, client_for, globex_admin, counted):
    from answering.models import Line

    with tenant_context(globex):
        globex_ids = set(Line.objects.values_list("pk", flat=True))
    client = client_for("globex.localhost", globex_admin)
    for path in ("/service-level/", "/service-level/export.csv", "/api/v1/service-levels/"):
        # Acme's emergencies line, asked for on globex's host: each schema numbers its own lines,
        # so the id is either none of globex's (404) or globex's own line, with none of acme's calls.
        response = client.get(f"{path}?line={counted.pk}&{PERIOD}")
        if counted.pk in globex_ids:
            assert response.status_code == 200
            assert b"03:00" not in b"".join(getattr(response, "streaming_content", [response.content]))
        else:
            assert response.status_code == 404
        assert client.get(f"{path}?line={max(globex_ids | {counted.pk}) + 1000}").status_code == 404


def test_a_bad_period_is_a_named_error(client_for, acme_admin, counted):
    client = client_for("acme.localhost", acme_admin)
    page = client.get("/service-level/?date_from=2026-10-26&date_to=2026-10-25")
    assert page.status_code == 400
    assert "date_to" in page.context["form"].errors
    assert client.get("/service-level/export.csv?date_from=nonsense").status_code == 400
    api = client.get("/api/v1/service-levels/?date_from=nonsense")
    assert api.status_code == 400
    assert "date_from" in api.json()


def test_an_agent_sees_only_granted_lines_levels_in_the_admin(acme, admin_for, agent2, counted):
    # agent2 holds a grant on +3726001001 only: the emergencies line's levels are not theirs.
    page = admin_for(agent2, "acme").get("/admin/levels/linehourlevels/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 0
    assert admin_for(agent2, "globex").get("/admin/levels/linehourlevels/").status_code in (302, 403, 404)


def test_a_supervisor_sees_the_levels_in_the_admin_in_local_hours(acme, admin_for, counted):
    from tenants.models import User

    supervisor = User.objects.filter(provider_role="supervisor").first()
    page = admin_for(supervisor, "acme").get("/admin/levels/linehourlevels/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 4
    html = page.content.decode()
    assert "03:00 (UTC+02:00)" in html
    assert "03:00 (UTC+03:00)" in html
