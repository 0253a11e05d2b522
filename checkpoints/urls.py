"""Checkpoint pages. Fixed paths (such as ``arrivals/``) go before ``<str:code>/``, which would
otherwise take them for a checkpoint code."""

from django.urls import URLPattern, URLResolver, path

from checkpoints import arrivals, pwa, views

app_name = "checkpoints"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.checkpoint_index, name="index"),
    path("arrivals/", arrivals.arrival_list, name="arrivals"),
    path("arrivals/<int:pk>/confirm/", arrivals.arrival_confirm, name="arrival-confirm"),
    # The scan app's worker sits at the folder's top, so its scope covers every checkpoint.
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("<str:code>/", views.checkpoint_detail, name="detail"),
    path("<str:code>/scan/", views.checkpoint_scan, name="scan"),
    path("<str:code>/manifest.webmanifest", pwa.manifest, name="manifest"),
]
