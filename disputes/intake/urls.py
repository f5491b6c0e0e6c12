from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:pk>/", views.detail, name="detail"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("unmatched/<int:pk>/", views.match, name="match"),
    path("notices/", views.notices, name="notices"),
]
