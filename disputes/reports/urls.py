from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/<slug:table>.csv", views.export, name="export"),
    path("returns/<int:client_id>/", views.returns, name="returns"),
]
