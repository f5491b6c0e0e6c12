"""Bundle URLs inside the ``disputes`` namespace (included by ``disputes.urls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/bundle/", views.panel, name="bundle_panel"),
    path("<int:pk>/bundle/render/", views.render_new, name="bundle_render"),
    path("<int:pk>/bundle/channel/", views.channel, name="bundle_channel"),
    path("<int:pk>/bundle/order/", views.order, name="bundle_order"),
    path("<int:pk>/bundle/v<int:number>/submit/", views.submit, name="bundle_submit"),
    path("<int:pk>/bundle/v<int:number>.pdf", views.download, name="bundle_file"),
]
