"""Who receives what: the ops leads, and each person's notification settings."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from .models import NotificationSettings

OPS_LEAD, OPS_AGENT, CUSTOMER_SUCCESS = "ops_lead", "ops_agent", "customer_success"
DIGEST_ROLES = (OPS_LEAD, OPS_AGENT, CUSTOMER_SUCCESS)  # most senior first: one digest each


def reachable():
    """Active people with an e-mail address."""
    return get_user_model().objects.filter(is_active=True).exclude(email="")


@dataclass
class People:
    leads: list = field(default_factory=list)
    reminders_off: set = field(default_factory=set)
    by_id: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> "People":
        users = {u.pk: u for u in reachable()}
        lead_ids = reachable().filter(groups__name=OPS_LEAD).values_list("pk", flat=True)
        leads = [users[pk] for pk in lead_ids]
        off = set(
            NotificationSettings.objects.filter(reminders=False).values_list("user_id", flat=True)
        )
        return cls(leads=sorted(leads, key=lambda u: u.pk), reminders_off=off, by_id=users)

    def wants_reminders(self, user_id: int) -> bool:
        return user_id not in self.reminders_off


def settings_for(user) -> NotificationSettings:
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def digest_role(user) -> str | None:
    names = {group.name for group in user.groups.all()}  # prefetched when delivering digests
    return next((role for role in DIGEST_ROLES if role in names), None)
