"""Sign-in and sign-out pages: Django's own views with the project's templates. Failed sign-ins
are throttled by django-axes, whose lock-out answer is ``passcode_portal.lockout``."""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    # Django's LogoutView answers POST only, so a link or a prefetch cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
