"""Which integrations a DPA version authorises (compliance/agreements/subprocessors.py), and the
records that decide it: services, regions and categories on a sub-processor, objections resolved."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.agreements import services as dpa
from compliance.agreements.models import AgreementVersion, SubProcessorObjection
from compliance.agreements.subprocessors import sub_processor_authorisation
from tenants.errors import ApplicationError
from tenants.integrations import EMAIL, TWILIO_SMS, TWILIO_VOICE, region_allowed
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_a_region_is_a_country_code_or_a_group_that_holds_it():
    assert region_allowed("IE", ["EEA"])
    assert region_allowed("no", ["EEA"])  # Norway is in the EEA
    assert not region_allowed("NO", ["EU"])  # and not in the EU
    assert region_allowed("US", ["IE", "US"])
    assert not region_allowed("US", ["EEA"])
    assert not region_allowed("", ["EEA"])  # an unnamed region is allowed nowhere


def test_each_demo_company_is_authorised_exactly_as_its_dpa_says(acme, globex, initech):
    def allowed(company, integration):
        return sub_processor_authorisation(
            company=company, integration=integration, categories=["user.contact.phone_number"]
        )

    assert allowed(acme, TWILIO_SMS).allowed
    assert allowed(acme, TWILIO_VOICE).allowed
    assert allowed(globex, TWILIO_VOICE).allowed
    assert allowed(globex, TWILIO_SMS).kind == "not_named"
    assert allowed(initech, TWILIO_VOICE).kind == "no_dpa"
    email = sub_processor_authorisation(company=globex, integration=EMAIL, categories=["user.contact.email"])
    assert email.allowed
    assert email.version_number == 1


def test_an_unnamed_provider_is_refused(acme, settings):
    settings.EMAIL_SUBPROCESSOR = ""
    refusal = sub_processor_authorisation(company=acme, integration=EMAIL, categories=[])
    assert refusal.kind == "unnamed_provider"
    assert "not named in the settings" in refusal.reason


def test_a_sub_processor_names_only_known_services_and_categories(acme):
    drafter = User.objects.get(username="provider-admin")
    active = AgreementVersion.objects.get(agreement__company=acme, status="active")
    draft = dpa.dpa_draft_create(company=acme, actor=drafter, copy_from=active)
    copied = {s.name: (s.services, s.regions, s.categories) for s in draft.sub_processors.all()}
    assert copied["Twilio Ireland Ltd"][0] == ["voice", "sms"]  # a copy keeps what it authorises
    fields = {"name": "X Ltd", "purpose": "p", "location": "l", "authorised_on": dt.date(2026, 1, 1)}
    with pytest.raises(ApplicationError) as error:
        dpa.dpa_sub_processor_add(version=draft, services=["fax"], actor=drafter, **fields)
    assert error.value.field == "services"
    with pytest.raises(ApplicationError) as error:
        dpa.dpa_sub_processor_add(version=draft, categories=["user.shoe_size"], actor=drafter, **fields)
    assert error.value.field == "categories"
    added = dpa.dpa_sub_processor_add(version=draft, services=["email"], regions=[" ie "], actor=drafter, **fields)
    assert added.regions == ["IE"]


def test_only_the_dpo_resolves_an_objection_and_only_once(acme, acme_admin):
    twilio = AgreementVersion.objects.get(agreement__company=acme, status="active").sub_processors.get(
        name="Twilio Ireland Ltd"
    )
    objection = SubProcessorObjection.objects.create(sub_processor=twilio, reason="no", raised_by=acme_admin)
    with pytest.raises(ApplicationError):
        dpa.sub_processor_objection_resolve(objection=objection, actor=acme_admin, resolution="fine")
    dpo = User.objects.get(username="dpo")
    with pytest.raises(ApplicationError) as error:
        dpa.sub_processor_objection_resolve(objection=objection, actor=dpo, resolution="  ")
    assert error.value.field == "resolution"
    dpa.sub_processor_objection_resolve(objection=objection, actor=dpo, resolution="Withdrawn")
    with pytest.raises(ApplicationError) as error:
        dpa.sub_processor_objection_resolve(objection=objection, actor=dpo, resolution="again")
    assert error.value.code == "already_resolved"
