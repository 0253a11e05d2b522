from django.urls import URLPattern, URLResolver, path

from trucks import views

app_name = "trucks"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("trips/new/", views.trip_new, name="trip-new"),
    path("trips/<int:trip_id>/", views.trip_detail, name="trip"),
    path("trips/<int:trip_id>/test-result/", views.trip_test_result, name="trip-test-result"),
    path("trips/<int:trip_id>/plate/", views.trip_plate, name="trip-plate"),
    path("trips/<int:trip_id>/cancel/", views.trip_cancel, name="trip-cancel"),
    path("p/<str:token>/", views.pass_link, name="pass-link"),
    path("company/vehicles/", views.company_vehicles, name="vehicles"),
    path("company/drivers/", views.company_drivers, name="drivers"),
]
