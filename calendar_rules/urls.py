from django.urls import path

from disputes.confirmed_rules import views as confirmed_rules

from . import views

app_name = "calendar_rules"

urlpatterns = [
    path("", views.rule_table, name="table"),
    path("confirm/<str:rule_key>/", confirmed_rules.confirm, name="confirm"),
]
