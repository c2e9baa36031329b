"""Child processes of the demo (a Celery worker and beat, the web) and of the tests' real worker,
pointed at the very database this process uses, so they need not find it again."""

from __future__ import annotations

import os
from urllib.parse import quote


def in_subprocess_env(settings_dict: dict) -> dict:
    """Environment for a child process (a Celery worker, say) that must use the same database."""
    env = dict(os.environ)
    host = settings_dict.get("HOST") or ""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    port = settings_dict.get("PORT") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    if host.startswith("/"):
        env["DATABASE_URL"] = f"postgres://{auth}%2F{quote(host.lstrip('/'), safe='')}/{settings_dict['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{auth}{host}{':' + str(port) if port else ''}/{settings_dict['NAME']}"
    return env
