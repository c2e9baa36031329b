"""The production profile refuses to start without its secrets; the development one needs none."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = [
    "SECRET_KEY",
    "KEY_ENCRYPTION_KEY",
    "FIELD_ENCRYPTION_KEY",
    "BACKUP_ENCRYPTION_KEY",
    "AUDIT_SIGNING_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
]


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith("DJANGO_")}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        KEY_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        BACKUP_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        AUDIT_SIGNING_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="vastaja.example,.vastaja.example",
        # `check` does not connect; nothing listens on port 1.
        DATABASE_URL="postgres://vastaja@127.0.0.1:1/vastaja",
    )
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_each_secret_naming_it(missing):
    env = _production_env()
    del env[missing]
    result = _manage("check", env=env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: DJANGO_ENV=production requires the environment variable {missing}"]


def test_production_profile_passes_check_deploy_with_zero_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_with_debug_on_fails_check_deploy():
    # The check above is not vacuous: turning a safeguard off makes it fail.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(DEBUG="true"))
    assert result.returncode != 0
    assert "DEBUG" in result.stderr + result.stdout


@pytest.mark.parametrize("key", ["not-hex-" * 8, "ab" * 31, "ab" * 33])
def test_a_signing_key_that_is_not_a_32_byte_seed_in_hex_is_refused_in_one_line(key):
    result = _manage("check", env=_production_env(AUDIT_SIGNING_KEY=key))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: AUDIT_SIGNING_KEY must be 64 hex characters (an Ed25519 private key's 32-byte seed)"
    ]


def test_unknown_profile_is_refused():
    env = _production_env(DJANGO_ENV="staging")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: DJANGO_ENV must be 'development' or 'production', not 'staging'"
    ]


def test_a_longest_sealing_delay_the_sealer_cannot_keep_is_refused():
    result = _manage("check", env=_production_env(AUDIT_SEAL_SECONDS="30", AUDIT_SEAL_MAX_DELAY_SECONDS="60"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: AUDIT_SEAL_MAX_DELAY_SECONDS (60) must be more than twice AUDIT_SEAL_SECONDS (30)"
    ]


def test_unreachable_database_gives_a_one_line_error_not_a_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DATABASE_URL"] = "postgres://vastaja@127.0.0.1:1/vastaja"
    result = _manage("migrate_schemas", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the database at 127.0.0.1:1/vastaja:")


# What a command sees as `default_storage`: it stores a file and names its backend and the name.
STORE_PROBE = (
    "from django.core.files.base import ContentFile; from django.core.files.storage import default_storage as s; "
    "name = s.save('probe/file.enc', ContentFile(b'probe bytes')); print(type(s._wrapped).__name__, name)"
)


def _storage_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    # `shell` does not connect; nothing listens on port 1.
    env.update(DJANGO_ENV="development", DATABASE_URL="postgres://vastaja@127.0.0.1:1/vastaja", **overrides)
    return env


def test_a_named_bucket_sends_every_stored_file_to_it(s3_bucket, s3_server, tmp_path):
    from tests.object_storage import ACCESS_KEY, REGION, SECRET_KEY

    env = _storage_env(
        MEDIA_ROOT=str(tmp_path),
        AWS_STORAGE_BUCKET_NAME=s3_bucket.name,
        AWS_S3_ENDPOINT_URL=s3_server.endpoint_url,
        AWS_S3_REGION_NAME=REGION,
        AWS_S3_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_S3_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_LOCATION="vastaja",
    )
    result = _manage("shell", "-c", STORE_PROBE, env=env)
    assert result.returncode == 0, result.stderr
    backend, name = result.stdout.split()[-2:]
    assert backend == "S3Storage"
    assert name == "probe/file.enc"
    assert s3_bucket.names() == {"vastaja/probe/file.enc"}  # under AWS_LOCATION, the bucket's prefix
    assert s3_bucket.read("vastaja/probe/file.enc") == b"probe bytes"
    assert not any(tmp_path.iterdir())


def test_without_a_bucket_stored_files_stay_on_the_local_disk(tmp_path):
    result = _manage("shell", "-c", STORE_PROBE, env=_storage_env(MEDIA_ROOT=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    backend, name = result.stdout.split()[-2:]
    assert backend == "FileSystemStorage"
    assert (tmp_path / name).read_bytes() == b"probe bytes"
