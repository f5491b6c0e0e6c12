"""Deactivating a user revokes their calendar feed link for good: the feed view refuses an
inactive user's link too (a bulk ``update()`` sends no signal), and deletes it when it sees one."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save

from ..models import CalendarFeed
from .middleware import mark_session_renewed


def revoke_feed_of_deactivated_user(sender, instance, **kwargs):
    if not instance.is_active:
        CalendarFeed.revoke_for(instance)


def connect():
    post_save.connect(
        revoke_feed_of_deactivated_user,
        sender=get_user_model(),
        dispatch_uid="disputes.security.revoke_feed_of_deactivated_user",
    )
    user_logged_in.connect(mark_session_renewed, dispatch_uid="disputes.security.session_renewed")
