"""A real nginx (Debian's `nginx`) of a test's own in front of several web nodes: round robin,
TLS on one listener (a self-signed certificate made by `openssl`) and plain HTTP on another, the
proxy headers a TLS-terminating proxy sets, WebSocket upgrade for `/ws/`, and idempotent requests
retried on the next node. Its folder, configuration and logs are removed when it stops. Every wait
is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.faults import free_port, listening_wait, process_stop

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
OPENSSL = shutil.which("openssl")
requires_nginx = pytest.mark.skipif(
    NGINX is None or OPENSSL is None, reason="no nginx or openssl binary (Debian's `nginx`; .ci/run installs it)"
)
# A key and a self-signed certificate for the TLS listener, valid for a day.
SELF_SIGNED = [OPENSSL or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
SELF_SIGNED += ["-subj", "/CN=localhost"]
# The header that names the node (or nodes, comma-separated, when nginx retried) that served.
UPSTREAM_HEADER = "X-Upstream"

CONF = """
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream vastaja {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        proxy_http_version 1.1;
        proxy_connect_timeout 2s;
        proxy_read_timeout 30s;
        # A node that refuses, resets or times out: nginx sends the request to the next node, for
        # idempotent methods only (non_idempotent is not named), at most once more.
        proxy_next_upstream error timeout http_502;
        proxy_next_upstream_tries 2;
        add_header {header} $upstream_addr always;
        location /ws/ {{
            proxy_pass http://vastaja;
{headers}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 60s;
        }}
        location / {{
            proxy_pass http://vastaja;
{headers}
            proxy_set_header Connection "";
        }}
    }}
}}
"""


# In every location: a location that sets any proxy header inherits none from the server block.
# The client's Host (with its port) is passed as it came, and Django's ALLOWED_HOSTS refuses a
# forged one; X-Forwarded-Proto, -Host and -For are set here, overwriting whatever a client sent.
PROXY_HEADERS = """
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;"""


class OwnNginx:
    """`nginx` proxying to `127.0.0.1:<port>` for each of `node_ports`, round robin, on a free HTTP
    port and a free HTTPS port of 127.0.0.1."""

    def __init__(self, node_ports: list[int]):
        self.folder = folder = Path(tempfile.mkdtemp(prefix="vastaja-nginx-"))
        folder.chmod(0o755)
        self.http_port, self.https_port = free_port(), free_port()
        subprocess.run(
            [*SELF_SIGNED, "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
            check=True,
            capture_output=True,
            timeout=30,
        )
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "tmp" / sub).mkdir(parents=True)
        for path in (folder / "tmp", *(folder / "tmp").iterdir()):
            path.chmod(0o777)
        # As root, nginx's workers drop to `user`; as anyone else the directive is ignored, so leave it out.
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=30s;" for port in node_ports)
        (folder / "nginx.conf").write_text(
            CONF.format(
                user=user,
                folder=folder,
                servers=servers,
                http_port=self.http_port,
                https_port=self.https_port,
                header=UPSTREAM_HEADER,
                headers=PROXY_HEADERS,
            )
        )
        self.process: subprocess.Popen | None = None

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def __enter__(self) -> OwnNginx:
        self.process = subprocess.Popen(
            [NGINX, "-c", str(self.folder / "nginx.conf"), "-p", str(self.folder), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        for port in (self.http_port, self.https_port):
            listening_wait(port, process=self.process, timeout=15, what="nginx", log=self.log)
        return self

    def __exit__(self, *exc) -> None:
        process_stop(self.process, first=signal.SIGQUIT, timeout=10)  # QUIT: finish the requests in flight
        shutil.rmtree(self.folder, ignore_errors=True)
