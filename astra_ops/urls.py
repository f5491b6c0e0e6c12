from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from disputes.evidence.views import client_upload
from disputes.security import views as security_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="disputes:queue", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/lockouts/", security_views.lockouts, name="lockouts"),
    path("disputes/", include("disputes.urls")),
    path("calendar/", include("disputes.calendar_urls")),
    path("rules/", include("calendar_rules.urls")),
    path("case-history/", include("disputes.history.urls")),
    path("", include("disputes.notifications.urls")),
    # The client's evidence upload link (no account): disputes.evidence.links.
    path("e/<int:request_id>/<str:token>/", client_upload, name="evidence_link"),
    path("admin/", admin.site.urls),
    path("intake/", include("disputes.intake.urls")),
    path("reports/", include("disputes.reports.urls")),
    # before the API's catch-all: the KPI endpoint is a plain Django JSON view
    path("api/v1/reports/", include("disputes.reports.api_urls")),
    path("api/", include("disputes.api.urls")),
]
