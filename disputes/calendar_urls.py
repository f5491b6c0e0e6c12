from django.urls import path

from .views import calendar

app_name = "calendar"

urlpatterns = [
    path("", calendar.calendar, name="view"),
    path("day/<str:day>/", calendar.day, name="day"),
    path("feed/", calendar.feed_link, name="feed_link"),
    path("feed/<str:token>.ics", calendar.feed, name="feed"),
]
