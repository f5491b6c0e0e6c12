"""Mounted at /api/v1/reports/ ahead of the API's own URLs (astra_ops/urls.py)."""

from django.urls import path

from . import views

app_name = "reports_api"

urlpatterns = [path("kpis/", views.kpis, name="kpis")]
