"""Lines (answering/services/lines.py): a number is a line once, and only in E.164."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from answering.models import Line
from answering.services.lines import line_create
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_a_line_is_created_in_the_companys_schema(acme, globex, acme_admin):
    with tenant_context(acme):
        line = line_create(name="Acme after hours", phone_number="+3726001777", actor=acme_admin)
        assert Line.objects.get(phone_number="+3726001777").name == "Acme after hours"
    with tenant_context(globex):
        assert not Line.objects.filter(pk=line.pk, phone_number="+3726001777").exists()


@pytest.mark.parametrize(
    ("number", "field", "why"),
    [("+3726001001", "phone_number", "already a line"), ("5551234", "phone_number", "E.164")],
)
def test_a_taken_or_malformed_number_is_refused(acme, acme_admin, number, field, why):
    with tenant_context(acme):
        before = Line.objects.count()
        with pytest.raises(ApplicationError, match=why) as refused:
            line_create(name="Another", phone_number=number, actor=acme_admin)
        assert refused.value.field == field
        assert Line.objects.count() == before
