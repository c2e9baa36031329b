"""Migration 0030: stored scripts written before branching get their explicit form, published
ones included, and the immutability trigger is back afterwards."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Line, Script, ScriptVersion
from answering.scripts import script_path

pytestmark = pytest.mark.django_db

LINEAR = [
    {"kind": "disclosure", "prompt": "This call may be recorded."},
    {"kind": "ask", "prompt": "Name?", "questions": [{"key": "n", "label": "Name", "target": "message.caller_name"}]},
]


def test_a_published_linear_script_migrates_and_stays_immutable(acme):
    migration = importlib.import_module("answering.migrations.0030_branching_scripts")
    with tenant_context(acme):
        script = Script.objects.create(line=Line.objects.get(phone_number="+3726001001"), name="Old")
        old = ScriptVersion.objects.create(script=script, number=1, steps=LINEAR, published_at=timezone.now())
        with connection.schema_editor(atomic=False) as editor:
            migration.forward(apps, editor)
        steps = ScriptVersion.objects.get(pk=old.pk).steps
        assert [s["id"] for s in steps] == ["s1", "s2"]
        assert steps[1]["questions"][0]["type"] == "text"
        assert steps[1]["questions"][0]["required"] is False
        assert [s["prompt"] for s in steps] == [s["prompt"] for s in LINEAR]  # the words are unchanged
        assert script_path(steps, answers={}, facts={}).outcome.action == "message"
        with pytest.raises(IntegrityError), transaction.atomic():
            ScriptVersion.objects.filter(pk=old.pk).update(steps=[])
