from django.core.management.base import BaseCommand

from disputes.notifications import services
from disputes.notifications.commands import parse_now


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Run the deadline reminder sweep once (the same code as the 15-minute beat task): record "
        "and send every reminder, escalation and evidence chaser due and not yet sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO-8601 date and time to sweep at (default: now)")
        parser.add_argument(
            "--via-worker",
            action="store_true",
            help="queue delivery on the Celery worker instead of sending from this process",
        )

    def handle(self, *args, now=None, via_worker=False, **options):
        dispatch = services.deliver_via_worker if via_worker else services.deliver_now
        report = services.send_deadline_reminders(now=parse_now(now), dispatch=dispatch)
        self.stdout.write(
            f"{report.owed} disputes owed a reminder; recorded {report.reminders} "
            f"reminders, {report.escalations} escalations and {report.chasers} evidence chasers "
            f"for {report.disputes} disputes; {report.redispatched} earlier ones handed over again."
        )
