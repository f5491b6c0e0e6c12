"""The calendar feed URL: junk in the token is a 404, never a server error, and a deactivated
user's link is revoked for good (reactivating the user does not bring it back)."""

import pytest
from django.contrib.auth import get_user_model

from disputes.models import CalendarFeed
from tests.disputes.test_calendar import create_link, fetch
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/feed/%00.ics",
        "/calendar/feed/abc%00def.ics",
        "/calendar/feed/%C3%A9t%C3%A9.ics",
        "/calendar/feed/" + "a" * 300 + ".ics",
        "/calendar/feed/%FF%FE.ics",
    ],
)
def test_a_malformed_token_is_404(client, path):
    assert client.get(path).status_code == 404


def test_a_deactivated_users_link_stays_revoked_after_reactivation(client):
    user = UserFactory(username="leaver", role="ops_agent")
    feed = create_link(client, user)
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    assert fetch(client, feed).status_code == 404
    assert not CalendarFeed.objects.filter(user=user).exists()


def test_a_link_of_a_user_deactivated_in_bulk_is_deleted_when_fetched(client):
    user = UserFactory(username="leaver", role="ops_agent")
    feed = create_link(client, user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert fetch(client, feed).status_code == 404
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    assert fetch(client, feed).status_code == 404
    assert not CalendarFeed.objects.filter(user=user).exists()
