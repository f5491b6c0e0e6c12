from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from disputes.roles import ROLE_PERMISSIONS, apply_roles


class Command(BaseCommand):
    requires_system_checks = []  # started often (cron, beat): checks run at deploy and migrate
    help = "Create the role groups and give each exactly the permissions of disputes/roles.py."

    def handle(self, *args, **options):
        apply_roles(Group, Permission, strict=True)
        self.stdout.write(f"Roles in sync: {', '.join(ROLE_PERMISSIONS)}")
