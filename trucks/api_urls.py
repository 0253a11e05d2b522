from django.urls import URLPattern, URLResolver, path

from trucks import apis, fleet_apis, import_apis, series_apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("trips/", apis.TripListCreateApi.as_view(), name="api-trip-list"),
    path("trips/<int:pk>/", apis.TripDetailApi.as_view(), name="api-trip-detail"),
    path("trips/<int:pk>/cancel/", apis.TripCancelApi.as_view(), name="api-trip-cancel"),
    path(
        "trips/<int:pk>/test-result/",
        apis.TripTestResultApi.as_view(),
        name="api-trip-test-result",
    ),
    path("trips/<int:pk>/plate/", apis.TripPlateApi.as_view(), name="api-trip-plate"),
    path("trips/<int:pk>/repeat/", series_apis.TripRepeatApi.as_view(), name="api-trip-repeat"),
    path(
        "trip-series/<int:pk>/",
        series_apis.TripSeriesDetailApi.as_view(),
        name="api-trip-series-detail",
    ),
    path(
        "trip-series/<int:pk>/cancel/",
        series_apis.TripSeriesCancelApi.as_view(),
        name="api-trip-series-cancel",
    ),
    path("trips/<int:pk>/driver/", apis.TripDriverApi.as_view(), name="api-trip-driver"),
    path("passes/<int:pk>/qr.png", apis.PassQrPngApi.as_view(), name="api-pass-qr-png"),
    path("passes/<int:pk>/qr.svg", apis.PassQrSvgApi.as_view(), name="api-pass-qr-svg"),
    path("regions/", apis.RegionListApi.as_view(), name="api-region-list"),
    path("regions/<str:code>/", apis.RegionDetailApi.as_view(), name="api-region-detail"),
    path("consignees/", apis.ConsigneeListApi.as_view(), name="api-consignee-list"),
    path("keys/", apis.KeysApi.as_view(), name="api-keys"),
    path("vehicles/", fleet_apis.VehicleListApi.as_view(), name="api-vehicle-list"),
    path("drivers/", fleet_apis.DriverListApi.as_view(), name="api-driver-list"),
    path("trip-imports/", import_apis.TripImportsApi.as_view(), name="api-trip-import-list"),
    path(
        "trip-imports/template.csv",
        import_apis.TemplateCsvApi.as_view(),
        name="api-trip-import-template-csv",
    ),
    path(
        "trip-imports/template.xlsx",
        import_apis.TemplateXlsxApi.as_view(),
        name="api-trip-import-template-xlsx",
    ),
    path("trip-imports/<int:pk>/", import_apis.TripImportApi.as_view(), name="api-trip-import"),
    path(
        "trip-imports/<int:pk>/confirm/",
        import_apis.TripImportConfirmApi.as_view(),
        name="api-trip-import-confirm",
    ),
    path(
        "trip-imports/<int:pk>/errors/",
        import_apis.TripImportErrorsApi.as_view(),
        name="api-trip-import-errors",
    ),
    path(
        "trip-imports/<int:pk>/errors.csv",
        import_apis.TripImportErrorsCsvApi.as_view(),
        name="api-trip-import-errors-csv",
    ),
    path(
        "trip-imports/<int:pk>/errors.xlsx",
        import_apis.TripImportErrorsXlsxApi.as_view(),
        name="api-trip-import-errors-xlsx",
    ),
]
