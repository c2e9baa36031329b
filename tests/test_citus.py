"""The isolation suite against a Citus coordinator (marker `citus`): with `CITUS_URL` set to a
Citus 12+ coordinator whose `citus.enable_schema_based_sharding` is on, the test runs
tests/test_isolation*.py in a pytest of its own with `DATABASE_URL=$CITUS_URL`, so pytest-django
creates the test database there and every company schema the demo world makes is a distributed
schema; the run also asserts that they are. Without `CITUS_URL` it reports itself skipped, saying
why: Citus has no Debian or PyPI package, so this machine cannot run it (docs/scaling.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITUS_URL = os.environ.get("CITUS_URL", "")
ISOLATION = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").glob("test_isolation*.py"))
requires_citus = pytest.mark.skipif(
    not CITUS_URL,
    reason="CITUS_URL is unset: set it to a Citus 12+ coordinator with citus.enable_schema_based_sharding = on "
    "to run the isolation suite there (no Citus package exists for this machine; docs/scaling.md)",
)
pytestmark = [pytest.mark.citus, requires_citus]


def _on_citus() -> bool:
    return bool(CITUS_URL) and os.environ.get("DATABASE_URL") == CITUS_URL


@pytest.mark.skipif(_on_citus(), reason="this is the run started below, on the coordinator")
def test_the_isolation_suite_passes_on_a_citus_coordinator():
    import psycopg

    with psycopg.connect(CITUS_URL, connect_timeout=10, autocommit=True) as coordinator:
        version = coordinator.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'").fetchone()
        assert version, "CITUS_URL names a database without the citus extension"
        sharding = coordinator.execute("SELECT current_setting('citus.enable_schema_based_sharding')").fetchone()[0]
        assert sharding == "on", "set citus.enable_schema_based_sharding = on on the coordinator"
    env = dict(os.environ, DATABASE_URL=CITUS_URL)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *ISOLATION, __file__, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1]


@pytest.mark.skipif(
    not _on_citus(),
    reason="runs only inside the pytest that the test above starts on the coordinator (CITUS_URL as DATABASE_URL)",
)
@pytest.mark.django_db
def test_every_company_schema_is_a_distributed_schema():
    from django.db import connection

    from tenants.models import ClientCompany

    companies = set(ClientCompany.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaid::regnamespace::text FROM pg_dist_schema")
        distributed = {name for (name,) in cursor.fetchall()}
    assert companies
    assert companies <= distributed
