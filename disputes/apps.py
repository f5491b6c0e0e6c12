from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using, **kwargs):
    """Keep the role groups in step with the matrix after every migrate (and every test flush,
    which empties the groups a data migration made)."""
    from django.contrib.auth.models import Group, Permission

    from .roles import apply_roles

    if Permission.objects.using(using).filter(content_type__app_label="disputes").exists():
        apply_roles(Group, Permission, strict=True)


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        post_migrate.connect(_sync_roles, sender=self)
        from .security import signals

        signals.connect()
        # Feature packages register their event kinds (and Celery tasks) on import.
        from .evidence.bundles import kinds as bundle_kinds  # noqa: F401
        from .evidence.bundles import tasks as bundle_tasks  # noqa: F401
        from .notifications import kinds as notification_kinds  # noqa: F401
