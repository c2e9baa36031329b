"""A child process is told the exact database its parent uses."""

from __future__ import annotations

from demo.processes import in_subprocess_env


def test_a_unix_socket_is_passed_as_an_escaped_host(monkeypatch):
    monkeypatch.setenv("KEEP_ME", "1")
    env = in_subprocess_env({"HOST": "/tmp/pg sock", "USER": "postgres", "PASSWORD": "", "NAME": "test_vastaja"})
    assert env["DATABASE_URL"] == "postgres://postgres@%2Ftmp%2Fpg%20sock/test_vastaja"
    assert env["KEEP_ME"] == "1"  # the rest of the environment goes along


def test_a_server_is_passed_with_its_port_and_password():
    env = in_subprocess_env({"HOST": "db.internal", "PORT": 5433, "USER": "app", "PASSWORD": "s3", "NAME": "vastaja"})
    assert env["DATABASE_URL"] == "postgres://app:s3@db.internal:5433/vastaja"
