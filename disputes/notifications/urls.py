from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/settings/", views.notification_settings, name="settings"),
    path("digests/preview/", views.digest_preview, name="digest_preview"),
]
