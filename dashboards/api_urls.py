from django.urls import URLPattern, URLResolver, path

from dashboards import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/overview/", apis.StatsOverviewApi.as_view(), name="api-stats-overview"),
    path("stats/hourly/", apis.StatsHourlyApi.as_view(), name="api-stats-hourly"),
]
