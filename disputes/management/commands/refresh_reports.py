import time

from django.core.management.base import BaseCommand, CommandError

from disputes.models import business_today
from disputes.reports import check as report_check
from disputes.reports import summary


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Bring the report summaries up to the newest case-history event (Celery beat runs it "
        "every 5 minutes). --full derives them again from every dispute; --check compares a "
        "period's figures from the summaries with the same figures computed from the disputes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="derive everything again")
        parser.add_argument(
            "--check", type=int, metavar="DAYS", help="compare the DAYS ending today (PostgreSQL)"
        )

    def handle(self, *args, full=False, check=None, **options):
        started = time.perf_counter(), time.process_time()
        done = summary.refresh(full=full)
        wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
        self.stdout.write(
            f"Report summaries up to event {done.watermark:,}: {done.disputes:,} disputes "
            f"re-read, {done.filings:,} new filings, {done.sums_changed:,} daily sums changed "
            f"in {wall:.1f} s ({cpu:.1f} s CPU)."
        )
        if check:
            differences = report_check.compare(days=check, today=business_today())
            for line in differences:
                self.stdout.write(line)
            if differences:
                raise CommandError(f"{len(differences)} figures differ.")
            self.stdout.write(f"Every figure of the last {check} days matches the disputes.")
