from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.world import COMPANIES, DEMO_PASSWORD, DEMO_TOTP_KEY_BASE32, STAFF, demo_seed, tenant_domain


class Command(BaseCommand):
    help = "Create the demo world (idempotent). Refuses to run in the production profile."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="the port printed in the URLs")

    def handle(self, *args, port: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo never runs in the production profile (DJANGO_ENV=production)")
        self.stdout.write("Seeding the demo world:")
        demo_seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Provider admin:  http://{settings.PUBLIC_HOST}:{port}/admin/")
        self.stdout.write("    staff: " + ", ".join(username for username, _, _ in STAFF))
        for demo in COMPANIES:
            self.stdout.write(
                f"  {demo.name + ':':<22} http://{tenant_domain(demo.slug)}:{port}/   ({demo.slug}-admin)"
            )
        self.stdout.write(f"  Every demo user's password: {DEMO_PASSWORD}")
        self.stdout.write(
            "  Provider staff also need a one-time code (TOTP): add the secret "
            f"{DEMO_TOTP_KEY_BASE32} to an authenticator app,\n"
            "    or print the current code with: .venv/bin/python manage.py totp_code agent1"
        )
