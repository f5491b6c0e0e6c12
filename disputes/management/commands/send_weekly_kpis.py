from django.core.management.base import BaseCommand

from disputes.reports import weekly


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Send last week's dispute KPIs to ops leads and compliance, once per person per week. "
        "Without --now it sends only on Mondays (ops time zone), the day the digest goes out."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="send today, whatever the day")

    def handle(self, *args, now=False, **options):
        today = weekly.today()
        if not now and today.weekday() != 0:
            self.stdout.write("Not Monday: nothing sent (use --now to send today).")
            return
        week_start = weekly.last_complete_week(today)
        sent = weekly.send_weekly_kpis(week_start=week_start)
        self.stdout.write(f"Weekly KPIs of the week of {week_start}: sent to {sent} people.")
