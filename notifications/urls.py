from django.urls import URLPattern, URLResolver, path

from notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("officials/notifications/", views.notification_list, name="list"),
]
