"""Root URLconf: the admin, sign-in / sign-out, the REST API and the pages of each app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import two_factor
from tracking import indicator_files

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(("config.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script from ?script instead of inline, and
    # templates/api/swagger_ui.html drops the inline <style>: no CSP exception needed.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    # POST only (Django 5): the sign-out button in templates/base.html is a small form.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Second sign-in step for accounts with two-factor on; turning it on and off; the
    # password change page (config.two_factor).
    path("accounts/login/code/", two_factor.two_factor_verify, name="two-factor-verify"),
    path("account/two-factor/", two_factor.two_factor_setup, name="two-factor-setup"),
    path("account/password/", two_factor.password_change, name="password-change"),
    # Indicator values as CSV (download) and CSV/XLSX (upload): tracking.indicator_files.
    path(
        "strategies/<int:pk>/indicator-values.csv",
        indicator_files.values_csv,
        name="indicator-values-csv",
    ),
    path(
        "strategies/<int:pk>/indicator-values/upload/",
        indicator_files.values_upload,
        name="indicator-values-upload",
    ),
    path("", include("strategy.urls")),
    path("", include("tracking.urls")),
]
