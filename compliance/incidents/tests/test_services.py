"""The incident register: per-client deadlines from each DPA, the 72-hour clock, the checklist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from compliance.incidents.models import ChecklistItem, IncidentCompany
from compliance.incidents.services import (
    DEFAULT_HOURS,
    incident_activate_checklist,
    incident_notify,
    incident_record,
)
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo(db):
    return User.objects.get(username="dpo")


def _incident(dpo, *companies, detected=None):
    return incident_record(
        title="Misdirected export",
        description="A CSV export was sent to the wrong client address.",
        detected_at=detected or timezone.now() - dt.timedelta(hours=2),
        companies=list(companies),
        categories=["user.contact.name", "user.contact.phone_number"],
        estimated_subjects=120,
        actor=dpo,
    )


def test_each_affected_company_gets_the_deadline_of_its_own_dpa(dpo, acme, globex, initech):
    detected = timezone.now() - dt.timedelta(hours=2)
    incident = _incident(dpo, acme, globex, initech, detected=detected)
    deadlines = {a.company.schema_name: (a.notification_hours, a.deadline) for a in incident.affected.all()}
    assert deadlines["acme"] == (24, detected + dt.timedelta(hours=24))
    assert deadlines["globex"] == (36, detected + dt.timedelta(hours=36))
    # initech's DPA is only submitted, not in force: no agreed clause, so without undue delay.
    assert deadlines["initech"] == (DEFAULT_HOURS, detected + dt.timedelta(hours=DEFAULT_HOURS))
    assert incident.controller_deadline == detected + dt.timedelta(hours=72)


def test_the_admin_counts_the_deadlines_down(dpo, acme, globex, admin_for):
    incident = _incident(dpo, acme, globex)
    page = admin_for(dpo).get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "22 h left" in page  # acme: 24 h from two hours ago
    assert "34 h left" in page  # globex: 36 h
    assert "70 h left" in page  # the controllers' 72 hours


def test_the_checklist_is_one_action_and_notifications_reach_the_client_admins(dpo, acme):
    incident = _incident(dpo, acme)
    incident_activate_checklist(incident=incident, actor=dpo)
    incident_activate_checklist(incident=incident, actor=dpo)  # once only
    assert ChecklistItem.objects.filter(incident=incident).count() == 7
    affected = IncidentCompany.objects.get(incident=incident, company=acme)
    notification = incident_notify(affected=affected, actor=dpo)
    affected.refresh_from_db()
    assert notification.recipients == 1
    assert affected.notified_at is not None
    assert mail.outbox[-1].to == ["admin@acme.example"]
    assert "Misdirected export" in mail.outbox[-1].body


def test_bad_incidents_are_refused(dpo, acme):
    agent = User.objects.get(username="agent1")
    with pytest.raises(ApplicationError, match="DPO"):
        _incident(agent, acme)
    with pytest.raises(ApplicationError, match="future"):
        _incident(dpo, acme, detected=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ApplicationError, match="at least one"):
        _incident(dpo)


def test_the_dpo_records_an_incident_in_the_admin(dpo, acme, globex, admin_for):
    from compliance.incidents.models import Incident

    client = admin_for(dpo)
    detected = (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    response = client.post(
        "/admin/incidents/incident/record/",
        {
            "title": "Laptop stolen",
            "description": "An agent's laptop was stolen from a car.",
            "severity": "high",
            "detected_at": detected,
            "companies": [acme.pk, globex.pk],
            "categories": ["user.contact.name"],
            "estimated_subjects": "40",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get(title="Laptop stolen")
    assert sorted(a.notification_hours for a in incident.affected.all()) == [24, 36]
    agent = User.objects.get(username="agent1")
    assert admin_for(agent).get("/admin/incidents/incident/record/").status_code in (403, 404)
