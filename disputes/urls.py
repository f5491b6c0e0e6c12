from django.urls import include, path, register_converter

from . import services
from .views import dispute, queue


class ActConverter:
    """Resolves an act's name in a URL to its named service; any other name is a 404."""

    regex = "|".join(sorted(services.ACTS, key=len, reverse=True))

    def to_python(self, value):
        return services.ACTS[value]

    def to_url(self, value):
        return value.name if isinstance(value, services.Act) else services.ACTS[value].name


register_converter(ActConverter, "act")

app_name = "disputes"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("claim/", queue.claim, name="queue_claim"),
    path("assign/", queue.assign, name="queue_assign"),
    path("export.csv", queue.export, name="queue_export"),
    path("<int:pk>/", dispute.detail, name="detail"),
    path("<int:pk>/transition/<act:act>/", dispute.transition, name="transition"),
    path("<int:pk>/notes/", dispute.add_note, name="add_note"),
    path("", include("disputes.evidence.urls")),
    path("", include("disputes.evidence.bundles.urls")),
]
