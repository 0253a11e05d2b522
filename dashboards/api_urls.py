from django.urls import URLPattern, URLResolver, path

from dashboards import apis
from dashboards.exports import apis as exports

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/overview/", apis.StatsOverviewApi.as_view(), name="api-stats-overview"),
    path("stats/hourly/", apis.StatsHourlyApi.as_view(), name="api-stats-hourly"),
    path("exports/", exports.ExportsApi.as_view(), name="api-exports"),
    path("exports/<int:pk>/", exports.ExportApi.as_view(), name="api-export"),
    path(
        "exports/<int:pk>/download/",
        exports.ExportDownloadApi.as_view(),
        name="api-export-download",
    ),
]
