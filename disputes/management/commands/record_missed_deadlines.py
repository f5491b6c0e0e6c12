from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from disputes.missed.services import record_missed_deadlines


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now {value!r} is not a date or an ISO date and time.") from exc
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(settings.OPS_TIME_ZONE))
    return moment


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Record, once each, every one of our deadlines that passed with no filing: a "
        "deadline_missed event in the dispute's case history (also hourly on beat)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            type=_moment,
            help="sweep as of this moment (YYYY-MM-DD or ISO date and time, in the ops time "
            "zone unless it says otherwise); default: now",
        )

    def handle(self, *args, now=None, **options):
        recorded = record_missed_deadlines(now=now)
        self.stdout.write(f"Recorded {recorded} missed deadline{'' if recorded == 1 else 's'}.")
