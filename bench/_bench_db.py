"""Shared set-up for the benchmarks: Django on a throw-away database of the configured server.

The benchmarks never touch the demo database. They create `vastaja_bench_<pid>` on the same
server (the embedded one, or DATABASE_URL's), migrate its public schema, and drop it at the end.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


@contextmanager
def bench_database():
    import django
    from django.conf import settings

    django.setup()
    import psycopg
    from psycopg import sql

    db = dict(settings.DATABASES["default"])
    name = f"vastaja_bench_{os.getpid()}"
    admin = dict(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # No connection has been opened yet, so pointing the settings elsewhere is enough.
    settings.DATABASES["default"]["NAME"] = name
    try:
        from django.core.management import call_command

        print(f"bench: migrating the public schema of {name} ...", flush=True)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        from gates.context import system_context

        # The benchmark builds its world and checks it directly; every page it measures is a
        # request, which starts with no context and reads through the gates like any other.
        with system_context(reason="benchmark set-up and checks"):
            yield name
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**admin) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def timed(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def bench_company(
    *, slug: str, staff: tuple[str, ...] = (), read_grants: tuple[str, ...] = (), retention_days: int = 30
):
    """A client company with an active DPA that lets agents and supervisors read `read_grants`,
    the given provider staff (usernames that are also their roles) assigned to it with a TOTP
    device, a signed commitment and the general course, a DPO and a client admin.
    Returns (company, {username: user})."""
    import datetime as dt

    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from compliance.agreements import services as dpa
    from tenants.models import Assignment, Membership, User
    from tenants.services import client_onboard, provider_ensure, template_ensure

    provider_ensure(domain="localhost")
    template_ensure()
    company = client_onboard(slug=slug, name=slug.title(), domain=f"{slug}.localhost")
    people = {
        "dpo": User.objects.create_user("dpo", password="x", provider_role="dpo", is_staff=True),
        "client": User.objects.create_user("client", password="x"),
    }
    Membership.objects.create(user=people["client"], company=company, role="client_admin")
    for role in staff:
        people[role] = User.objects.create_user(role, password="x", provider_role=role, is_staff=True)
        Assignment.objects.create(user=people[role], company=company)
        TOTPDevice.objects.create(user=people[role], name="bench", confirmed=True)

    dpo, today = people["dpo"], timezone.localdate()
    # The training gate: each member of staff has signed the commitment and holds the general course.
    from compliance.training import services as training

    course = training.course_ensure(
        code="dp-essentials",
        title="Data protection essentials",
        validity_months=12,
        required_for_all_staff=True,
        actor=dpo,
    )
    for role in staff:
        training.commitment_record(user=people[role], document_version="bench", signed_on=today, actor=dpo)
        training.training_record_add(user=people[role], course=course, completed_on=today, actor=dpo)
    version = dpa.dpa_draft_create(
        company=company,
        actor=dpo,
        subject_matter="x",
        nature_and_purpose="x",
        start_date=today,
        end_date=today + dt.timedelta(days=30),
        data_subject_categories="x",
        security_measures="x",
        data_subject_rights_assistance="x",
        end_of_processing="delete",
        audit_rights="x",
        staff_confidentiality="x",
        breach_notification_hours=24,
    )
    for category in read_grants:
        for role in ("agent", "supervisor"):
            dpa.dpa_grant_add(version=version, role=role, category=category, action="read", actor=dpo)
        dpa.dpa_retention_set(version=version, category=category, days=retention_days, actor=dpo)
    dpa.dpa_submit(version=version, actor=dpo)
    dpa.dpa_sign_for_client(version=version, actor=people["client"])
    dpa.dpa_approve(version=version, actor=dpo)
    dpa.dpa_activate(version=version, actor=dpo)
    return company, people


def admin_client(user, slug: str):
    """A test client on the provider's host, signed in with a verified second factor, working for `slug`."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from gates.selection import SESSION_KEY

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session[SESSION_KEY] = slug
    session.save()
    return client
