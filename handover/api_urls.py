from django.urls import URLPattern, URLResolver, path

from handover import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhooks/", apis.SubscriptionListCreateApi.as_view(), name="api-webhook-list"),
    path(
        "webhooks/<int:pk>/",
        apis.SubscriptionDetailApi.as_view(),
        name="api-webhook-detail",
    ),
    path(
        "webhooks/<int:pk>/deliveries/",
        apis.DeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/retry/",
        apis.DeliveryRetryApi.as_view(),
        name="api-webhook-delivery-retry",
    ),
]
