from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from disputes.intake import services
from disputes.intake.models import IntakeFile


def print_summary(out, intake_file) -> None:
    summary = intake_file.summary
    out(f"{intake_file.name}: {intake_file.get_status_display().lower()}.")
    for key, value in summary.items():
        out(f"  {key.replace('_', ' ')}: {value:,}")


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = (
        "Import a NACHA return file: each return opens or updates its dispute, dishonored and "
        "contested returns move theirs, notifications of change are recorded for the client. "
        "All or nothing; importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="username to record as the importer (default: system)")

    def handle(self, *args, file, user=None, **options):
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        uploader = None
        if user:
            uploader = get_user_model().objects.filter(username=user).first()
            if uploader is None:
                raise CommandError(f"No user {user!r}.")
        intake_file, created = services.receive_file(
            kind=IntakeFile.Kind.NACHA, name=file.name, content=content, uploaded_by=uploader
        )
        if not created and intake_file.status == IntakeFile.Status.DONE:
            self.stdout.write(f"{file.name}: already imported (as {intake_file.name}); no change.")
            return
        intake_file = services.import_file(intake_file_id=intake_file.pk)
        if intake_file.status == IntakeFile.Status.FAILED:
            raise CommandError(f"{file.name} refused: {intake_file.error}. Nothing was imported.")
        print_summary(self.stdout.write, intake_file)
