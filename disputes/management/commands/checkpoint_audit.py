from django.core.management.base import BaseCommand

from disputes.history import checkpoint


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Write a signed checkpoint of every case history's head and length to the audit "
        "storage (outside the database); verify_audit_chain compares against the latest one."
    )

    def handle(self, *args, **options):
        written = checkpoint.write()
        self.stdout.write(
            f"Checkpoint {written.name}: {written.disputes} disputes, {written.events} events."
        )
