import time

from django.conf import settings
from django.core.management.base import BaseCommand

from disputes import demo
from disputes.intake import demo as intake_demo
from disputes.models import Dispute
from disputes.reports.demo import seed_volumes


class Command(BaseCommand):
    help = (
        "Create demo data: clients, one user per role, and disputes across Visa, Mastercard "
        "and NACHA, every rail, stage and state, dated around today."
    )

    def add_arguments(self, parser):
        parser.add_argument("--disputes", type=int, default=2000, help="how many (default 2000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when disputes already exist"
        )

    def handle(self, *args, disputes, seed, if_empty, **options):
        if if_empty and Dispute.objects.exists():
            self.stdout.write("Disputes already exist; demo data left as it is.")
        else:
            started = time.monotonic()

            def progress(done):
                if done % 100_000 == 0 or done == disputes:
                    rate = done / max(time.monotonic() - started, 1e-9)
                    self.stdout.write(f"  {done:,} disputes ({rate:,.0f}/s)")

            counts = demo.seed(disputes=disputes, seed_value=seed, progress=progress)
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"Seeded {counts['disputes']:,} disputes with {counts['audit_rows']:,} audit rows "
                f"for {counts['clients']} clients in {elapsed:.1f} s."
            )
        for name, status in intake_demo.seed().items():
            self.stdout.write(f"Imported {name}: {status}")
        # a year of daily volumes around the imported week: the reports' denominators
        made = seed_volumes(seed_value=seed)
        self.stdout.write(f"Transaction volumes: {made:,} daily rows")
        self.stdout.write(f"API token of the demo admin: {intake_demo.api_token('admin')}")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, role, _first, _last in demo.DEMO_USERS:
            self.stdout.write(f"  {role:<17} {username}")
        self.stdout.write(f"Open {settings.SITE_URL}/")
