from django.urls import URLPattern, URLResolver, path

from trucks.views import fleet, home, imports, passes, register, series, trips

app_name = "trucks"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.home, name="home"),
    path("trips/new/", register.trip_new, name="trip-new"),
    path("trips/<int:trip_id>/", trips.trip_detail, name="trip"),
    path("trips/<int:trip_id>/test-result/", trips.trip_test_result, name="trip-test-result"),
    path("trips/<int:trip_id>/plate/", trips.trip_plate, name="trip-plate"),
    path("trips/<int:trip_id>/driver/", trips.trip_driver, name="trip-driver"),
    path("trips/<int:trip_id>/cancel/", trips.trip_cancel, name="trip-cancel"),
    path("trips/<int:trip_id>/repeat/", trips.trip_repeat, name="trip-repeat"),
    path("trips/series/<int:series_id>/", series.series_detail, name="trip-series"),
    path("trips/series/<int:series_id>/cancel/", series.series_cancel, name="trip-series-cancel"),
    path("p/<str:token>/", passes.pass_link, name="pass-link"),
    path("company/vehicles/", fleet.company_vehicles, name="vehicles"),
    path("company/drivers/", fleet.company_drivers, name="drivers"),
    path("company/imports/", imports.company_imports, name="imports"),
    path("company/imports/<int:import_id>/", imports.company_import, name="import"),
    path(
        "company/imports/<int:import_id>/confirm/",
        imports.company_import_confirm,
        name="import-confirm",
    ),
]
