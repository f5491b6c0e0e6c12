from django.core.management.base import BaseCommand

from disputes.notifications import services
from disputes.notifications.commands import parse_now


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Send this week's digest to every ops agent, ops lead and Customer Success person who "
        "has not had it (at most once per person per week, however often it runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO-8601 date and time (default: now)")
        parser.add_argument("--via-worker", action="store_true", help="deliver on the worker")

    def handle(self, *args, now=None, via_worker=False, **options):
        dispatch = services.deliver_via_worker if via_worker else services.deliver_now
        count = services.send_weekly_digest(now=parse_now(now), dispatch=dispatch)
        self.stdout.write(f"Recorded {count} weekly digests.")
