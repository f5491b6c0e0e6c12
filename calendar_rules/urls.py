from django.urls import path

from . import views

app_name = "calendar_rules"

urlpatterns = [
    path("", views.rule_table, name="table"),
]
