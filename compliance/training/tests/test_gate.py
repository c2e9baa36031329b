"""The training gate, from the side of the agent who must lose the data.

Demo world: acme's DPA requires the health-data course; every agent and supervisor holds a valid
commitment and general course, and those working for acme the health-data course. agent1 works for
acme, globex and initech; globex's DPA requires no course.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line
from compliance.training.models import ConfidentialityCommitment, TrainingRecord
from crm.models import Contact
from demo.world import CALLERS
from gates.engine import policy_for
from tenants.categories import personal_fields
from tenants.errors import ApplicationError
from tenants.models import User

pytestmark = pytest.mark.django_db

CALLS = "/admin/answering/call/"
CONTACTS = "/admin/crm/contact/"
BANNER = 'id="training-gate"'
VALUES = [value for caller in CALLERS for value in caller]  # every caller's name, number and e-mail


def _expire(user: User, code: str) -> dt.date:
    """The person's completions of `code` ran out yesterday (as if their shift crossed midnight)."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert TrainingRecord.objects.filter(user=user, course__code=code).update(expires_on=yesterday) >= 1
    return yesterday


def _shown(page: str) -> list[str]:
    return [value for value in VALUES if value in page]


def _calls(company) -> list[Call]:
    with tenant_context(company):
        return list(Call.objects.order_by("pk"))


def test_acceptance_an_expired_health_course_hides_all_of_acme_and_none_of_globex(admin_for, agent1, acme, globex):
    acme_admin, globex_admin = admin_for(agent1, "acme"), admin_for(agent1, "globex")
    # In order: both companies show what their DPAs grant.
    assert "Jaan Kask" in acme_admin.get(CALLS).content.decode()
    assert "+37251234502" in acme_admin.get(CALLS).content.decode()
    assert "Jaan Kask" in globex_admin.get(CALLS).content.decode()

    expired_on = _expire(agent1, "health-data")

    # The engine: no personal field of acme at all, for reading or writing; globex as before.
    policy = policy_for(user=agent1, company=acme)
    for model in (Call, Contact, Line):
        assert policy.masked(model) == frozenset(personal_fields(model))
        assert not any(policy.can_write(model, name) for name in personal_fields(model))
    assert [gap.course_code for gap in policy.training_gaps] == ["health-data"]
    globex_policy = policy_for(user=agent1, company=globex)
    assert globex_policy.training_gaps == ()
    assert globex_policy.can_read(Call, "caller_name")
    assert globex_policy.can_read(Call, "notes")
    assert not globex_policy.can_read(Call, "caller_number")  # globex never granted numbers

    # The admin, on the very next request with the same session: acme's lists, forms and export
    # show none of it, and say why; globex's still show names.
    page = acme_admin.get(CALLS).content.decode()
    assert _shown(page) == []
    assert "restricted by DPA" in page
    assert BANNER in page
    assert "Handling health data in calls" in page
    assert f"expired on {expired_on:%Y-%m-%d}" in page
    assert "Acme Dental Clinic&#x27;s data-processing agreement requires it" in page

    call = _calls(acme)[0]
    form = acme_admin.get(f"{CALLS}{call.pk}/change/").content.decode()
    assert _shown(form) == []
    assert "Asked for a call back" not in form
    contacts = acme_admin.get(CONTACTS).content.decode()
    assert _shown(contacts) == []
    export = acme_admin.post(CALLS, {"action": "export_csv", "_selected_action": [c.pk for c in _calls(acme)]})
    assert export["Content-Type"].startswith("text/csv")
    header = export.content.decode().splitlines()[0]
    assert "Caller name" not in header
    assert "Caller number" not in header
    assert "Notes" not in header
    assert _shown(export.content.decode()) == []

    globex_page = globex_admin.get(CALLS).content.decode()
    assert "Jaan Kask" in globex_page
    assert BANNER not in globex_page


def test_the_expiry_takes_effect_on_the_next_request_and_a_renewal_restores_it(admin_for, agent1, acme):
    from compliance.training.models import Course
    from compliance.training.services import training_record_add

    client = admin_for(agent1, "acme")
    assert "Jaan Kask" in client.get(CALLS).content.decode()
    _expire(agent1, "health-data")
    assert "Jaan Kask" not in client.get(CALLS).content.decode()
    training_record_add(
        user=agent1,
        course=Course.objects.get(code="health-data"),
        completed_on=timezone.localdate(),
        actor=User.objects.get(username="dpo"),
    )
    page = client.get(CALLS).content.decode()
    assert "Jaan Kask" in page
    assert BANNER not in page


def test_an_expired_general_course_hides_every_company(admin_for, agent1, acme, globex):
    _expire(agent1, "dp-essentials")
    for slug in ("acme", "globex"):
        page = admin_for(agent1, slug).get(CALLS).content.decode()
        assert _shown(page) == []
        assert "Data protection essentials" in page
        assert "every member of staff must hold it" in page


def test_a_missing_commitment_hides_every_company_and_says_so(admin_for, agent1, globex):
    ConfidentialityCommitment.objects.filter(user=agent1).delete()
    page = admin_for(agent1, "globex").get(CALLS).content.decode()
    assert _shown(page) == []
    assert "You have not signed the staff confidentiality commitment" in page


def test_a_course_never_completed_is_named(admin_for, agent1, acme):
    TrainingRecord.objects.filter(user=agent1, course__code="health-data").delete()
    policy = policy_for(user=agent1, company=acme)
    assert [(g.kind, g.course_code) for g in policy.training_gaps] == [("course_missing", "health-data")]
    page = admin_for(agent1, "acme").get(CALLS).content.decode()
    assert "You have no record of the “Handling health data in calls” (health-data) training" in page


def test_supervisors_are_gated_too(admin_for, acme):
    supervisor = User.objects.get(username="supervisor")
    assert "Jaan Kask" in admin_for(supervisor, "acme").get(CALLS).content.decode()
    _expire(supervisor, "health-data")
    page = admin_for(supervisor, "acme").get(CALLS).content.decode()
    assert _shown(page) == []
    assert BANNER in page


def test_another_persons_expiry_changes_nothing_for_this_one(admin_for, agent1, agent2, acme):
    _expire(agent2, "health-data")
    assert "Jaan Kask" in admin_for(agent1, "acme").get(CALLS).content.decode()
    assert "Jaan Kask" not in admin_for(agent2, "acme").get(CALLS).content.decode()


def test_an_agent_whose_training_lapsed_cannot_write_personal_fields_either(agent1, acme):
    from answering.services.messages import message_take

    _expire(agent1, "health-data")
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        with pytest.raises(ApplicationError) as refused:
            message_take(line=line, actor=agent1, caller_name="New Caller", body="Please call back")
        assert refused.value.field == "caller_name"
    connection.set_schema_to_public()


def test_the_dpo_sees_no_banner_and_no_more_than_before(admin_for, acme):
    dpo = User.objects.get(username="dpo")
    ConfidentialityCommitment.objects.filter(user=dpo).delete()
    page = admin_for(dpo, "acme").get(CALLS).content.decode()
    assert BANNER not in page  # the DPO never sees personal fields; the gate has nothing to take away
    assert _shown(page) == []


def test_a_company_without_a_required_course_ignores_other_dpas_requirements(agent1, initech):
    # initech has no DPA in force: no personal field anyway, and no training message that would mislead.
    _expire(agent1, "health-data")
    assert policy_for(user=agent1, company=initech).training_gaps == ()
