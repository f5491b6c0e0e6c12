from django.urls import path

from .views import dispute, queue

app_name = "disputes"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("claim/", queue.claim, name="queue_claim"),
    path("assign/", queue.assign, name="queue_assign"),
    path("export.csv", queue.export, name="queue_export"),
    path("<int:pk>/", dispute.detail, name="detail"),
    path("<int:pk>/transition/<str:name>/", dispute.transition, name="transition"),
    path("<int:pk>/notes/", dispute.add_note, name="add_note"),
]
