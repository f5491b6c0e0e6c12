import threading
import time

from django.core.management.base import BaseCommand
from django.db import connection

from disputes import demo
from disputes.history import checkpoint
from disputes.intake import demo as intake_demo
from disputes.missed.services import record_missed_deadlines
from disputes.models import Dispute
from disputes.notifications.services import send_deadline_reminders
from disputes.reports import summary
from disputes.reports.demo import seed_volumes
from disputes.templatetags.disputes_tags import role_label


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
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

            # The report summaries are derived from scratch (the longest step after the load)
            # while evidence, bundles, imports and sweeps are added; a second, incremental
            # refresh at the end takes in the disputes those touched.
            summaries = {}

            def derive_beside():
                summaries["result"] = _beside(_timed, summary.refresh)

            counts = demo.seed(
                disputes=disputes, seed_value=seed, progress=progress, after_load=derive_beside
            )
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"Seeded {counts['disputes']:,} disputes with {counts['audit_rows']:,} audit rows "
                f"for {counts['clients']} clients in {elapsed:.1f} s."
            )
            for name, status in intake_demo.seed().items():
                self.stdout.write(f"Imported {name}: {status}")
            if disputes <= 100_000:  # the demo shows reminders already sent (not the benchmarks)
                report = send_deadline_reminders()
                self.stdout.write(
                    f"Reminder sweep: {report.reminders} reminders, {report.escalations} "
                    f"escalations, {report.chasers} evidence chasers."
                )
            self._after_seeding(seed, summaries)
        self.stdout.write(f"API token of the demo admin: {intake_demo.api_token('admin')}")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, role, _first, _last in demo.DEMO_USERS:
            self.stdout.write(f"  {role_label(role):<17} {username}")
        # scripts/demo prints the address to open once the web app answers.

    def _after_seeding(self, seed, summaries):
        """The missed-deadline sweep, as beat would run it, one signed checkpoint of every
        history as seeded, a year of daily volumes around the imported week (the reports'
        denominators), then the report summaries brought up to the last event (through the
        same services as production; each timed apart from the seeding itself)."""
        started = time.monotonic()
        missed = record_missed_deadlines()
        self.stdout.write(
            f"Recorded {missed:,} missed deadlines in {time.monotonic() - started:.1f} s."
        )
        started = time.monotonic()
        written = checkpoint.write()
        self.stdout.write(
            f"Checkpoint {written.name} of {written.events:,} events written in "
            f"{time.monotonic() - started:.1f} s."
        )
        self.stdout.write(f"Transaction volumes: {seed_volumes(seed_value=seed):,} daily rows")
        derived, took = summaries["result"]()
        self.stdout.write(
            f"Report summaries derived from scratch up to event {derived.watermark:,} "
            f"in {took:.1f} s."
        )
        started = time.monotonic()
        refreshed = summary.refresh()
        self.stdout.write(
            f"Report summaries brought up to event {refreshed.watermark:,} "
            f"({refreshed.disputes:,} disputes since) in {time.monotonic() - started:.1f} s."
        )


def _timed(function):
    started = time.monotonic()
    return function(), time.monotonic() - started


def _beside(function, *args, **kwargs):
    """Start ``function(*args, **kwargs)`` on a thread of its own (with its own database
    connection) and return a callable that waits for its result, or raises what it raised. On
    SQLite, or in a transaction another connection could not see into, it runs here and now."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        result = function(*args, **kwargs)
        return lambda: result
    outcome = {}

    def run():
        try:
            outcome["result"] = function(*args, **kwargs)
        except BaseException as exc:  # raised again in the caller's thread
            outcome["error"] = exc
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=run)
    thread.start()

    def result():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return result
