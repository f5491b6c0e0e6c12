from django.core.management.base import BaseCommand, CommandError

from disputes.history.verify import verify

SHOWN = 50  # breaks printed one per line; the summary counts them all


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Verify every dispute's case history: each keyed hash chain, each dispute row against "
        "its last event, and nothing removed since the latest signed checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dispute", type=int, action="append", help="dispute id (repeatable)")
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="skip the comparison with the checkpoint"
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="processes on PostgreSQL (default 2)"
        )

    def handle(self, *args, **options):
        report = verify(
            options["dispute"],
            use_checkpoint=not options["no_checkpoint"],
            workers=options["workers"],
        )
        for chain_break in report.breaks[:SHOWN]:
            self.stderr.write(f"BROKEN {chain_break}")
        if report.break_count > SHOWN:
            self.stderr.write(f"BROKEN … and {report.break_count - SHOWN:,} more")
        took = f" ({report.seconds:.1f} s, {report.workers} process(es))"
        if report.breaks:
            raise CommandError(report.summary() + took)
        if not report.checkpoint and not options["dispute"] and not options["no_checkpoint"]:
            self.stderr.write(
                "WARNING no checkpoint found: removals before the first checkpoint cannot be "
                "detected (run checkpoint_audit)."
            )
        self.stdout.write("OK: " + report.summary() + took)
