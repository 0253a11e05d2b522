from django.urls import URLPattern, URLResolver

app_name = "trucks"
urlpatterns: list[URLPattern | URLResolver] = []
