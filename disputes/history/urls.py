from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [path("", views.verify_page, name="verify")]
