from django.core.management.base import BaseCommand, CommandError

from disputes.history.verify import verify


class Command(BaseCommand):
    help = (
        "Verify every dispute's case history: each keyed hash chain, each dispute row against "
        "its last event, and nothing removed since the latest signed checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dispute", type=int, action="append", help="dispute id (repeatable)")
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="skip the comparison with the checkpoint"
        )

    def handle(self, *args, **options):
        report = verify(options["dispute"], use_checkpoint=not options["no_checkpoint"])
        for chain_break in report.breaks:
            self.stderr.write(f"BROKEN {chain_break}")
        against = f" against checkpoint {report.checkpoint}" if report.checkpoint else ""
        if report.breaks:
            raise CommandError(
                f"{len(report.breaks)} break(s) in {report.events} events of "
                f"{report.disputes} disputes{against}."
            )
        if not report.checkpoint and not options["dispute"] and not options["no_checkpoint"]:
            self.stderr.write(
                "WARNING no checkpoint found: removals before the first checkpoint cannot be "
                "detected (run checkpoint_audit)."
            )
        self.stdout.write(
            f"OK: {report.events} events of {report.disputes} disputes verified{against}: "
            "every case history intact."
        )
