"""python manage.py render_bundle <case id> [--profile NAME] --out FILE.pdf

Renders the dispute's current evidence into one PDF, prints the preflight verdict, and exits
non-zero (status 2) when the bundle does not fit its channel. Nothing is stored."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from disputes.evidence.bundles import profiles, services
from disputes.models import Dispute


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = "Render a dispute's submission bundle to a file and print its preflight verdict."

    def add_arguments(self, parser):
        parser.add_argument("case_id", help="The network case id (or trace number)")
        parser.add_argument(
            "--profile",
            default="",
            help=f"Channel ({', '.join(profiles.channels().profiles)}); default: the dispute's",
        )
        parser.add_argument("--network", default="", help="When two networks use the case id")
        parser.add_argument("--out", required=True, help="Where to write the PDF")

    def handle(self, *args, case_id, profile, network, out, **options):
        if profile and profile not in profiles.channels().profiles:
            raise CommandError(
                f"Unknown channel {profile!r}; known: {', '.join(profiles.channels().profiles)}"
            )
        found = Dispute.objects.filter(case_id=case_id)
        if network:
            found = found.filter(network=network)
        found = list(found.select_related("client", "transaction")[:2])
        if not found:
            raise CommandError(f"No dispute with case id {case_id!r}.")
        if len(found) > 1:
            raise CommandError(f"Two networks use case id {case_id!r}: say which with --network.")
        pdf, verdict = services.render_now(found[0], channel=profile)
        Path(out).write_bytes(pdf)
        self.stdout.write(f"Wrote {out} ({len(pdf):,} bytes, {verdict.pages} pages).")
        for line in verdict.lines():
            self.stdout.write(line)
        for step in verdict.tried:
            self.stdout.write(f"  tried {step}")
        if not verdict.fits:
            raise SystemExit(2)
