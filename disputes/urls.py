from django.urls import path

from .views import dispute, queue

app_name = "disputes"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("<int:pk>/", dispute.detail, name="detail"),
]
