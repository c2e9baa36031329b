"""The gate before every send (gates/outbound.py) fails closed and refuses what a sender does not
declare."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from audit.models import SubProcessorUse
from gates import outbound
from tenants.integrations import TWILIO_SMS
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_with_no_dpa_source_every_send_is_refused(acme, monkeypatch):
    monkeypatch.setattr(outbound, "_source", None)
    with tenant_context(acme):
        decision = outbound.outbound_check(integration=TWILIO_SMS, categories=[], model=User, object_ids=[1])
    assert not decision.allowed
    assert decision.kind == "no_dpa"


def test_a_send_carrying_a_category_its_integration_does_not_declare_is_refused(acme):
    with tenant_context(acme):
        decision = outbound.outbound_check(
            integration=TWILIO_SMS, categories=["user.biometrics.voice"], model=User, object_ids=[1]
        )
        recorded = SubProcessorUse.objects.get()
    assert not decision.allowed
    assert "does not declare user.biometrics.voice" in decision.reason
    assert (recorded.allowed, recorded.integration) == (False, "twilio_sms")


def test_outbound_require_raises_with_the_reason(globex):
    with tenant_context(globex), pytest.raises(outbound.SubProcessorRefused, match="no sub-processor is named"):
        outbound.outbound_require(
            integration=TWILIO_SMS, categories=["user.contact.phone_number"], model=User, object_ids=[1]
        )
