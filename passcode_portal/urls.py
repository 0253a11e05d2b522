from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker-compose: the process answers."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    # The checkpoint API first: URLs resolve in order, and a scan is the most frequent request.
    path("api/v1/", include("checkpoints.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("passcode_portal.accounts_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("passcode_portal.api_urls")),
    path("api/v1/", include("trucks.api_urls")),
    path("api/v1/", include("handover.api_urls")),
    path("api/v1/", include("dashboards.api_urls")),
    path("checkpoints/", include("checkpoints.urls")),
    path("", include("dashboards.urls")),
    path("", include("trucks.urls")),
]
