"""The gate engine through the selectors: role x membership x object grant x DPA state x field."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context
from guardian.shortcuts import assign_perm

from answering.models import Call, Line
from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion
from crm.models import Contact
from gates import engine
from gates.engine import POLICY_SOURCES, Role, objects_visible, policy_for, policy_source_register, role_in
from tenants.models import User

pytestmark = pytest.mark.django_db

NUMBER, NAME, NOTES, HEALTH = "caller_number", "caller_name", "notes", "health_notes"
PSEUDONYM = "caller_pseudonym"  # pseudonymised data is still personal data (GDPR Recital 26)


def _user(name):
    return User.objects.get(username=name)


@pytest.mark.parametrize(
    ("username", "company", "role"),
    [
        ("agent1", "acme", Role.AGENT),
        ("agent2", "acme", Role.AGENT),
        ("agent2", "globex", Role.NONE),  # not assigned
        ("supervisor", "globex", Role.SUPERVISOR),
        ("dpo", "initech", Role.DPO),
        ("provider-admin", "acme", Role.NONE),  # runs the platform, assigned to no company
        ("acme-admin", "acme", Role.CLIENT_ADMIN),
        ("acme-admin", "globex", Role.NONE),  # a member of another company
    ],
)
def test_roles_inside_companies(username, company, role, acme):
    from tenants.models import ClientCompany

    assert role_in(user=_user(username), company=ClientCompany.objects.get(schema_name=company)) == role


@pytest.mark.parametrize(
    ("company", "username", "readable", "masked"),
    [
        ("acme", "agent1", {NUMBER, NAME, NOTES}, set()),
        ("globex", "agent1", {NAME, NOTES}, {NUMBER, PSEUDONYM}),
        ("initech", "agent1", set(), {NUMBER, NAME, NOTES, PSEUDONYM}),  # only a submitted version: nothing
        ("acme", "dpo", set(), {NUMBER, NAME, NOTES, PSEUDONYM}),  # metadata only, never content
        ("acme", "acme-admin", {NUMBER, NAME, NOTES}, set()),  # the controller sees its own data
        ("globex", "agent2", set(), {NUMBER, NAME, NOTES, PSEUDONYM}),  # not assigned: nothing at all
    ],
)
def test_field_gate_on_calls(company, username, readable, masked, request):
    company = request.getfixturevalue(company)
    policy = policy_for(user=_user(username), company=company)
    assert {f for f in (NUMBER, NAME, NOTES) if policy.can_read(Call, f)} == readable
    assert policy.masked(Call) == frozenset(masked)


def test_health_is_never_granted_by_acmes_dpa_but_client_admins_see_it(acme):
    assert not policy_for(user=_user("agent1"), company=acme).can_read(Contact, HEALTH)
    assert policy_for(user=_user("acme-admin"), company=acme).can_read(Contact, HEALTH)


def test_parent_grants_cover_children(acme):
    dpo, drafter = _user("dpo"), _user("provider-admin")
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    version = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    version.grants.all().delete()
    dpa.dpa_grant_add(version=version, role="agent", category="user.contact", action="read", actor=drafter)
    dpa.dpa_submit(version=version, actor=drafter)
    dpa.dpa_sign_for_client(version=version, actor=_user("acme-admin"))
    dpa.dpa_approve(version=version, actor=dpo)
    dpa.dpa_activate(version=version, actor=dpo)

    policy = policy_for(user=_user("agent1"), company=acme)
    assert policy.can_read(Contact, "phone_number")
    assert policy.can_read(Contact, "email")
    assert not policy.can_read(Contact, "notes")
    assert not policy.can_write(Contact, "phone_number")  # read granted, write not


def test_object_gate_agents_see_only_granted_lines(acme):
    agent2 = _user("agent2")
    with tenant_context(acme):
        policy = policy_for(user=agent2, company=acme)
        lines = objects_visible(policy=policy, user=agent2, queryset=Line.objects.all())
        calls = objects_visible(policy=policy, user=agent2, queryset=Call.objects.all())
        assert [line.phone_number for line in lines] == ["+3726001001"]
        assert {call.line.phone_number for call in calls} == {"+3726001001"}
        assert calls.count() == Call.objects.filter(line__phone_number="+3726001001").count()


def test_object_gate_group_grants_count_too(acme):
    from django.contrib.auth.models import Group

    agent2 = _user("agent2")
    night_shift = Group.objects.create(name="night shift")
    agent2.groups.add(night_shift)
    with tenant_context(acme):
        assign_perm("answering.view_line", night_shift, Line.objects.get(phone_number="+3726001002"))
        policy = policy_for(user=agent2, company=acme)
        lines = objects_visible(policy=policy, user=agent2, queryset=Line.objects.all())
        assert sorted(line.phone_number for line in lines) == ["+3726001001", "+3726001002"]


def test_object_gate_refuses_everything_to_outsiders(globex):
    agent2 = _user("agent2")
    with tenant_context(globex):
        policy = policy_for(user=agent2, company=globex)
        assert not objects_visible(policy=policy, user=agent2, queryset=Call.objects.all()).exists()


def test_a_model_without_an_object_rule_is_closed_to_agents(acme):
    from operations.timers.models import Timer

    agent1 = _user("agent1")
    with tenant_context(acme):
        policy = policy_for(user=agent1, company=acme)
        assert list(objects_visible(policy=policy, user=agent1, queryset=Timer.objects.all())) == []


def test_policy_is_resolved_with_a_fixed_number_of_queries(acme, django_assert_max_num_queries):
    # The user, the assignment, the DPA in force and its grants, then the training gate: the
    # commitment, and the required courses with the person's latest expiry.
    with django_assert_max_num_queries(6):
        policy = policy_for(user=_user("agent1"), company=acme)
    with django_assert_max_num_queries(0):
        for _ in range(1000):
            policy.can_read(Call, NUMBER)
            policy.masked(Contact)


# ---- policy sources: the compliance rooms tell the gate what is in force ---------------------


def test_the_compliance_apps_register_every_policy_source():
    assert set(engine._policy_sources) == set(POLICY_SOURCES)


def test_with_no_policy_source_an_agent_reads_no_personal_field(acme, monkeypatch):
    monkeypatch.setattr(engine, "_policy_sources", {})
    policy = policy_for(user=_user("agent1"), company=acme)
    assert policy.role == Role.AGENT
    assert policy.dpa_version_id is None
    assert policy.masked(Call) == frozenset({NUMBER, NAME, NOTES, PSEUDONYM})
    assert not policy.can_write(Contact, "phone_number")
    # The controller's own users are not gated by the DPA, sources or not.
    assert policy_for(user=_user("acme-admin"), company=acme).can_read(Call, NUMBER)


def test_a_dpa_without_a_training_source_grants_nothing(acme, monkeypatch):
    monkeypatch.setattr(engine, "_policy_sources", {"dpa_in_force": engine._policy_sources["dpa_in_force"]})
    policy = policy_for(user=_user("agent1"), company=acme)
    assert policy.dpa_version_id is not None  # the DPA is in force...
    assert policy.masked(Call) == frozenset({NUMBER, NAME, NOTES, PSEUDONYM})  # ...but nobody vouched for training


def test_an_unknown_policy_source_is_refused(monkeypatch):
    monkeypatch.setattr(engine, "_policy_sources", {})
    with pytest.raises(ValueError, match="unknown policy source 'vibes'"):
        policy_source_register(name="vibes", source=lambda **kwargs: None)
    assert engine._policy_sources == {}


def test_users_granted_agrees_with_each_persons_gate_in_one_query(acme):
    """The ACD queue's side of gate 2: who may be offered a call on a line. Per user, the answer is
    the one objects_visible gives that user; agent2 is not eligible for the emergencies line until
    a group they belong to is granted it, and the query count does not grow with the users."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gates.engine import users_granted

    agent1, agent2 = _user("agent1"), _user("agent2")
    staff = User.objects.filter(pk__in=[agent1.pk, agent2.pk])
    with tenant_context(acme):
        emergencies = Line.objects.get(phone_number="+3726001002")
        call = Call.objects.select_related("line").filter(line=emergencies).first()

        def agrees(obj) -> set[int]:
            with CaptureQueriesContext(connection) as captured:
                granted = set(users_granted(obj=obj, users=staff).values_list("pk", flat=True))
            assert len(captured.captured_queries) == 1
            for user in (agent1, agent2):
                policy = policy_for(user=user, company=acme)
                sees = objects_visible(policy=policy, user=user, queryset=type(obj).objects.filter(pk=obj.pk)).exists()
                assert sees == (user.pk in granted), f"{user} {type(obj).__name__}"
            return granted

        assert agent2.pk not in agrees(emergencies)
        assert agent2.pk not in agrees(call)  # a call inherits its line's grants
        night_shift = Group.objects.create(name="emergency cover")
        agent2.groups.add(night_shift)
        assign_perm("answering.view_line", night_shift, emergencies)
        assert agent2.pk in agrees(emergencies)
        assert agent2.pk in agrees(call)
