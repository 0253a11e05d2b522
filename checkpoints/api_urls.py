from django.urls import URLPattern, URLResolver, path

from checkpoints import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("checkpoints/", apis.CheckpointListApi.as_view(), name="api-checkpoint-list"),
]
