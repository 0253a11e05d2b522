from django.urls import URLPattern, URLResolver, path

from dashboards import alerts, lists, timeline, views
from dashboards.exports import views as exports

app_name = "dashboards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/charts/", views.dashboard_charts, name="charts"),
    path("dashboard/alerts/", alerts.alert_list, name="alerts"),
    path("dashboard/lists/", lists.lists, name="lists"),
    path("dashboard/exports/", exports.exports_page, name="exports"),
    path("dashboard/trips/<int:pk>/", timeline.trip_timeline, name="trip"),
    path("dashboard/map-outline.geojson", views.map_outline, name="map-outline"),
]
