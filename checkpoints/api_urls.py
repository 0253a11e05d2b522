from django.urls import URLPattern, URLResolver, path

from checkpoints import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("checkpoints/<str:code>/scans/", apis.ScanApi.as_view(), name="api-scan"),
    path("checkpoints/", apis.CheckpointListApi.as_view(), name="api-checkpoint-list"),
    path(
        "checkpoints/<str:code>/scans/<int:pk>/confirm/",
        apis.ScanConfirmApi.as_view(),
        name="api-scan-confirm",
    ),
    path(
        "checkpoints/<str:code>/scans/<int:pk>/landing-test/",
        apis.LandingTestApi.as_view(),
        name="api-scan-landing-test",
    ),
    path(
        "checkpoints/<str:code>/scans/<int:pk>/landing-test-result/",
        apis.LandingTestResultApi.as_view(),
        name="api-scan-landing-test-result",
    ),
    path(
        "checkpoints/<str:code>/scans/<int:pk>/override/",
        apis.OverrideApi.as_view(),
        name="api-scan-override",
    ),
    path("checkpoints/<str:code>/lookup/", apis.LookupApi.as_view(), name="api-lookup"),
    path("checkpoints/<str:code>/walk-ins/", apis.WalkInApi.as_view(), name="api-walk-in"),
    path("checkpoints/<str:code>/bundle/", apis.BundleApi.as_view(), name="api-bundle"),
    path("trips/<int:pk>/arrival/", apis.ArrivalApi.as_view(), name="api-trip-arrival"),
]
