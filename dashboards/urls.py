from django.urls import URLPattern, URLResolver, path

from dashboards import alerts, lists, outbox, policy, regions, timeline, views, webhooks, whitelist
from dashboards.exports import views as exports

app_name = "dashboards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/charts/", views.dashboard_charts, name="charts"),
    path("dashboard/alerts/", alerts.alert_list, name="alerts"),
    path("dashboard/lists/", lists.lists, name="lists"),
    path("dashboard/regions/", regions.region_list, name="regions"),
    path("dashboard/policy/", policy.policy_page, name="policy"),
    path("dashboard/exports/", exports.exports_page, name="exports"),
    path("dashboard/trips/<int:pk>/", timeline.trip_timeline, name="trip"),
    path("dashboard/whitelist/", whitelist.whitelist, name="whitelist"),
    path("dashboard/whitelist/new/", whitelist.whitelist_new, name="whitelist-new"),
    path("dashboard/whitelist/<int:pk>/", whitelist.whitelist_entry, name="whitelist-entry"),
    path("dashboard/map-outline.geojson", views.map_outline, name="map-outline"),
    path("dashboard/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("dashboard/webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook"),
    path("dashboard/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path("officials/notifications/", outbox.notification_list, name="notifications"),
]
