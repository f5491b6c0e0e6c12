"""Deactivating a user revokes their calendar feed link for good: the feed view refuses an
inactive user's link too (a bulk ``update()`` sends no signal), and deletes it when it sees one."""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save

from ..models import CalendarFeed


def revoke_feed_of_deactivated_user(sender, instance, **kwargs):
    if not instance.is_active:
        CalendarFeed.revoke_for(instance)


def mark_session_renewed(sender, request, user, **kwargs):
    """A sign-in is a renewal: the session middleware need not write again for a while."""
    if hasattr(request, "session"):
        request.session["_renewed_at"] = int(time.time())


def connect():
    user_logged_in.connect(
        mark_session_renewed, dispatch_uid="disputes.security.mark_session_renewed"
    )
    post_save.connect(
        revoke_feed_of_deactivated_user,
        sender=get_user_model(),
        dispatch_uid="disputes.security.revoke_feed_of_deactivated_user",
    )
