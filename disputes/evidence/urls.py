"""Evidence URLs inside the ``disputes`` namespace (included by ``disputes.urls``)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("evidence-requests/", views.my_requests, name="my_evidence_requests"),
    path("<int:pk>/evidence/", views.upload, name="evidence_upload"),
    path("<int:pk>/evidence/<int:item_id>/file", views.download, name="evidence_file"),
    path("<int:pk>/evidence/<int:item_id>/withdraw/", views.withdraw, name="evidence_withdraw"),
    path("<int:pk>/evidence/requests/", views.create_request, name="evidence_request"),
    re_path(
        r"^(?P<pk>\d+)/evidence/requests/(?P<request_id>\d+)/(?P<how>answered|cancelled)/$",
        views.close_request,
        name="evidence_request_close",
    ),
    path("<int:pk>/evidence/checklist/override/", views.override, name="checklist_override"),
    path("<int:pk>/letter/", views.letter, name="evidence_letter"),
]
