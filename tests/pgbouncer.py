"""A real PgBouncer (Debian's `pgbouncer`) of a test's own, on a free loopback port, in front of the
server the test database is on: its ini and auth file in a temporary folder, trust auth, stopped
at the end. Every wait is bounded.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.faults import free_port

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
requires_pgbouncer = pytest.mark.skipif(
    PGBOUNCER is None, reason="no pgbouncer binary (Debian's `pgbouncer`; .ci/run installs it)"
)


class OwnPgBouncer:
    """`pgbouncer` in `mode` with a pool of `pool_size` server connections to the database of
    `upstream` (a Django DATABASES entry), listening on 127.0.0.1 only. Its folder, ini, auth file
    and log are removed when it stops."""

    def __init__(self, upstream: dict, *, mode: str, pool_size: int):
        # Its own folder straight under /tmp: pytest's tmp_path is closed to the user it runs as.
        self.folder = folder = Path(tempfile.mkdtemp(prefix="vastaja-pgbouncer-"))
        self.port = free_port()
        self.dbname = upstream["NAME"]
        self.user = upstream.get("USER") or "postgres"
        host = upstream.get("HOST") or "127.0.0.1"
        target = f"host={host} port={upstream.get('PORT') or 5432} dbname={self.dbname} user={self.user}"
        if upstream.get("PASSWORD"):
            target += f" password={upstream['PASSWORD']}"
        (folder / "userlist.txt").write_text(f'"{self.user}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"{self.dbname} = {target}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"stats_users = {self.user}",
                    f"auth_file = {folder / 'userlist.txt'}",
                    f"pool_mode = {mode}",
                    f"default_pool_size = {pool_size}",
                    "min_pool_size = 0",
                    "reserve_pool_size = 0",
                    "max_client_conn = 200",
                    "server_reset_query = DISCARD ALL",
                    "query_wait_timeout = 30",
                    "ignore_startup_parameters = extra_float_digits,options",
                    f"logfile = {folder / 'pgbouncer.log'}",
                    f"pidfile = {folder / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        self.process: subprocess.Popen | None = None
        # PgBouncer refuses to run as root: as root, run it as the owner of the server's socket
        # folder (pgserver's own user reaches the embedded server), else as nobody.
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "nobody"
            owner = pwd.getpwnam(self.run_as)
            for path in (folder, *folder.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)

    @property
    def settings_dict(self) -> dict:
        """A DATABASES entry for the same database through the bouncer."""
        return {"NAME": self.dbname, "USER": self.user, "PASSWORD": "", "HOST": "127.0.0.1", "PORT": str(self.port)}

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def __enter__(self) -> OwnPgBouncer:
        self.process = subprocess.Popen(
            [PGBOUNCER, *(["-u", self.run_as] if self.run_as else []), str(self.folder / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while True:
            assert self.process.poll() is None, f"pgbouncer exited: {self.log()[-2000:]}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"pgbouncer did not listen within 15 s: {self.log()[-2000:]}"
                time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
