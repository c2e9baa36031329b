"""Scripts written before branching were a plain list of steps. Each stored version, drafts and
published ones alike, gets its stored form: every step an id, every question a type (text) and
required set to false, so it reads as the same linear script and a call that used it still points
at the words the agent saw. The immutability trigger is lifted for this one rewrite only, inside
the migration's transaction, and is back before it commits."""

import itertools

from django.db import migrations


def _normalise(steps):
    # A frozen copy of answering.scripts.steps_normalise as of this migration.
    if not isinstance(steps, list):
        return steps
    used = {step.get("id") for step in steps if isinstance(step, dict) and step.get("id")}
    counter = itertools.count(1)
    out = []
    for step in steps:
        if not isinstance(step, dict):
            out.append(step)
            continue
        step = dict(step)
        if not step.get("id"):
            step["id"] = next(f"s{n}" for n in counter if f"s{n}" not in used)
            used.add(step["id"])
        if step.get("kind") == "ask":
            step["questions"] = [
                {"type": "text", "required": False, **q} if isinstance(q, dict) else q
                for q in step.get("questions", [])
            ]
        out.append(step)
    return out


def forward(apps, schema_editor):
    ScriptVersion = apps.get_model("answering", "ScriptVersion")
    changed = []
    for version in ScriptVersion.objects.only("pk", "steps").iterator(chunk_size=500):
        steps = _normalise(version.steps)
        if steps != version.steps:
            changed.append((version.pk, steps))
    if not changed:
        return
    # ALTER TABLE refuses while deferred foreign-key checks on the table are pending (rows written
    # earlier in the same transaction): run them now, and defer them again after.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute("ALTER TABLE answering_scriptversion DISABLE TRIGGER scriptversion_immutable")
    for pk, steps in changed:
        ScriptVersion.objects.filter(pk=pk).update(steps=steps)
    schema_editor.execute("ALTER TABLE answering_scriptversion ENABLE TRIGGER scriptversion_immutable")
    schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [("answering", "0020_keyed_fields")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
