from django.core.management.base import BaseCommand

from disputes.api.idempotency import purge_expired_keys, retention


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Forget the API's Idempotency-Keys older than IDEMPOTENCY_KEY_RETENTION_HOURS (also "
        "hourly on beat). A forgotten key is handled as a new request."
    )

    def handle(self, *args, **options):
        deleted = purge_expired_keys()
        hours = int(retention().total_seconds() // 3600)
        self.stdout.write(
            f"Forgot {deleted} Idempotency-Key{'' if deleted == 1 else 's'} older than {hours} h."
        )
