from django.urls import URLPattern, URLResolver, path

from passcode_portal.auth_api import TokenObtainApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-auth-token"),
]
