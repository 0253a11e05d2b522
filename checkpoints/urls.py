from django.urls import URLPattern, URLResolver

app_name = "checkpoints"
urlpatterns: list[URLPattern | URLResolver] = []
