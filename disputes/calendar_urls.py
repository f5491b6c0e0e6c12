from django.urls import path

from .views import dispute

app_name = "calendar"

urlpatterns = [
    path("", dispute.calendar, name="view"),
]
