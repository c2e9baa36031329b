"""Everything the demo needs, in one command: migrate, seed, a Celery worker and beat, the web, and
(unless TWILIO_API_BASE names one) a local stand-in for Twilio's REST API, so that SMS, the warm
transfer and the queue's dequeue speak Twilio's real requests on loopback, never the internet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo.answering import business_hours_now
from demo.processes import in_subprocess_env
from demo.world import COMPANIES
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = "Migrate every schema, seed the demo world, start a Celery worker and beat, and serve."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="do not start the Celery worker and beat")

    def _business_hours(self, port: int) -> None:
        """Whether each company answers live now: outside its hours (weekdays 08:00-18:00, its own
        zone), a simulated call goes to voicemail or to the person on call, not to an agent."""
        self.stdout.write("  Business hours (weekdays 08:00-18:00, each company's own zone):")
        now = timezone.now()
        for company in ClientCompany.objects.filter(schema_name__in=[demo.slug for demo in COMPANIES]).order_by("pk"):
            with tenant_context(company):
                self.stdout.write(f"    {company.schema_name}: {business_hours_now(at=now)}")
        self.stdout.write(
            "    simulate_call <company> --in-hours calls as if it were open: "
            f".venv/bin/python manage.py simulate_call acme --in-hours --port {port}"
        )

    def _twilio_standin(self, env: dict):
        """Start the local Twilio stand-in (demo/twilio_standin.py) for the web and the worker, unless
        TWILIO_API_BASE is set: it takes the REST requests (SMS, the warm transfer's calls and
        conferences, the queue's dequeue) and answers as the person dialled, with signed callbacks."""
        if os.environ.get("TWILIO_API_BASE"):
            self.stdout.write(f"  Twilio's REST API: {settings.TWILIO_API_BASE} (TWILIO_API_BASE)")
            return None
        from demo.twilio_standin import TwilioStandIn

        standin = TwilioStandIn(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        standin.ring_seconds = 3.0  # long enough to see "Dialling" on the console
        standin.__enter__()
        env["TWILIO_API_BASE"] = standin.base_url
        self.stdout.write(
            f"  Twilio's REST API: a local stand-in at {standin.base_url}; it answers as acme's dentist on call "
            "when an agent transfers (set TWILIO_API_BASE for a real account)"
        )
        return standin

    def handle(self, *args, port: int, no_worker: bool, **options):
        if settings.PRODUCTION:
            raise CommandError("run_demo is for development; in production run gunicorn or daphne, a worker and beat")
        self.stdout.write(self.style.MIGRATE_HEADING("[1/4] Migrating the public schema and every client schema"))
        call_command("migrate_schemas", interactive=False, verbosity=1)
        self.stdout.write(self.style.MIGRATE_HEADING("[2/4] Seeding the demo world"))
        call_command("seed_demo", port=port)
        # Beat takes the first daily checkpoint a day from now: one now, so Audits shows one at once.
        call_command("audit_checkpoint")
        self._business_hours(port)

        # Children share the embedded database: hand them its exact address.
        env = in_subprocess_env(settings.DATABASES["default"])
        log_dir = settings.DATA_DIR / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        children: list[subprocess.Popen] = []
        standin = self._twilio_standin(env)
        if not no_worker:
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"[3/4] Starting a Celery worker and beat (logs in {log_dir})")
            )
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            for name, cmd in (
                ("worker", [*celery, "worker", "--pool", "solo", "--loglevel", "INFO"]),
                ("beat", [*celery, "beat", "--loglevel", "INFO"]),
            ):
                log = open(log_dir / f"celery-{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
                children.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        else:
            self.stdout.write("[3/4] Celery worker and beat not started (--no-worker)")
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"[4/4] Serving on http://{settings.PUBLIC_HOST}:{port}/ (daphne, ASGI)")
        )
        if settings.CHANNEL_LAYER_URL:
            self.stdout.write(f"  The live desk pushes over the Redis channel layer at {settings.CHANNEL_LAYER_URL}")
        else:
            # One process holds every console's socket; the worker's pushes could not reach them.
            env["DESK_TICK_IN_WEB"] = "1"
            self.stdout.write(
                "  No Redis configured: the live desk uses the in-memory channel layer, in this one web process,"
                " which also runs the queue's periodic pass (set CHANNEL_LAYER_URL for Redis)"
            )
        web = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            env=env,
            cwd=settings.BASE_DIR,
        )
        children.append(web)

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            if standin is not None:
                standin.__exit__(None, None, None)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        try:
            while True:
                for child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"a demo process exited with code {child.returncode}: {' '.join(child.args)}")
                        stop()
                time.sleep(1)
        except KeyboardInterrupt:
            stop()
