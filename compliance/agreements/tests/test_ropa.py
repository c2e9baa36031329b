import csv
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_record_of_processing_is_generated_from_the_dpas_and_the_registry(tmp_path):
    call_command("export_ropa", "--out", str(tmp_path))
    records = {r["tenant"]: r for r in json.loads((tmp_path / "ropa.json").read_text())}
    assert set(records) == {"acme", "globex", "initech"}
    acme = records["acme"]
    assert acme["in_force"] is True
    categories = {c["category"]: c["fields"] for c in acme["data_categories"]}
    assert "user.health" not in categories  # acme's DPA does not grant it
    assert "answering.Call.caller_number" in categories["user.contact.phone_number"]  # from the registry
    assert "user.contact.phone_number" not in {c["category"] for c in records["globex"]["data_categories"]}
    assert {s["name"] for s in acme["sub_processors"]} == {"Twilio Ireland Ltd", "Demo Mail OÜ"}
    assert {s["name"] for s in records["globex"]["sub_processors"]} == {"Twilio Ireland Ltd", "Demo Mail OÜ"}
    assert {s["name"] for s in records["initech"]["sub_processors"]} == {"Twilio Ireland Ltd"}
    assert acme["transfers_outside_eea"] == []
    assert records["initech"]["in_force"] is False  # only a submitted version
    rows = list(csv.reader((tmp_path / "ropa.csv").open()))
    assert rows[0][0] == "controller"
    assert {row[0] for row in rows[1:]} == {"Acme Dental Clinic", "Globex Law Firm", "Initech Software"}
