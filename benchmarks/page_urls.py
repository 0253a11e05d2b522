"""The product's URLs and the floor's (benchmarks/floor.py), for the scan page's benchmark."""

from django.urls import URLPattern, URLResolver, include, path

from benchmarks import floor

urlpatterns: list[URLPattern | URLResolver] = [
    *floor.urlpatterns,
    path("", include("passcode_portal.urls")),
]
