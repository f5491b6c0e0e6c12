import time

from django.core.management.base import BaseCommand

from calendar_rules import rules
from disputes.deadlines import recompute_open_deadlines
from disputes.models import Dispute


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Recompute the deadline of every open dispute from the current rule tables (run after "
        "a rule-table change) and report what moved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
        parser.add_argument("--chunk-size", type=int, default=20000)

    def handle(self, *args, dry_run, chunk_size, **options):
        started = time.monotonic()
        report = recompute_open_deadlines(dry_run=dry_run, chunk_size=chunk_size)
        elapsed = time.monotonic() - started
        out = self.stdout.write
        out(f"Rule tables version {rules.rules_version()}.")
        out(
            f"Checked {report.checked:,} open disputes in {elapsed:.1f} s: {report.changed:,} "
            f"changed, {report.moved:,} with a due date that moved."
        )
        if dry_run:
            out("Dry run: nothing written.")
        else:
            out(f"Written: {report.written:,}; left alone (changed meanwhile): {report.skipped:,}.")
        for (rule, shift), count in report.moves.most_common(25):
            where = f"{shift:+d} days" if shift is not None else "cleared or newly set"
            out(f"  {rule or '(no clock)'}: {count:,} disputes, network due {where}")
        if report.samples:
            cases = dict(
                Dispute.objects.filter(pk__in=[s[0] for s in report.samples]).values_list(
                    "pk", "case_id"
                )
            )
            out("Examples:")
            for pk, old, new, rule in report.samples[:10]:
                out(f"  {cases.get(pk, pk)}: {old} → {new} ({rule})")
