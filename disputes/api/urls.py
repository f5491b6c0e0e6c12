from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .. import services
from . import errors, evidence, views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/disputes/", views.DisputeList.as_view(), name="disputes"),
    path("v1/disputes/<int:pk>/", views.DisputeDetailView.as_view(), name="dispute"),
    *(
        path(f"v1/disputes/<int:pk>/{name}/", views.act_view(act), name=f"act_{name}")
        for name, act in services.ACTS.items()
    ),
    path(
        "v1/disputes/<int:pk>/evidence/",
        evidence.DisputeEvidence.as_view(),
        name="dispute_evidence",
    ),
    path(
        "v1/disputes/<int:pk>/evidence/<int:item_id>/withdraw/",
        evidence.EvidenceWithdraw.as_view(),
        name="evidence_withdraw",
    ),
    path("v1/imports/", views.ImportList.as_view(), name="imports"),
    path("v1/imports/<int:pk>/", views.ImportDetail.as_view(), name="import"),
    path("v1/imports/nacha/", views.NachaUpload.as_view(), name="import_nacha"),
    path("v1/imports/card-reports/", views.CardReportUpload.as_view(), name="import_card"),
    path("v1/transaction-volumes/", views.Volumes.as_view(), name="volumes"),
    re_path(r"^.*$", errors.not_found),
]
