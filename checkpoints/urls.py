"""Checkpoint pages. For now a placeholder landing page per checkpoint for its staff; the scan
page arrives with the checkpoint issue, which moves these views into ``checkpoints/views.py``."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path

from trucks import selectors


@login_required
def checkpoint_index(request: HttpRequest) -> HttpResponse:
    checkpoints = selectors.checkpoints_of_staff(request.user)
    return render(request, "checkpoints/index.html", {"checkpoints": checkpoints})


@login_required
def checkpoint_detail(request: HttpRequest, code: str) -> HttpResponse:
    # Another checkpoint's page is absent rather than forbidden, like another company's trip.
    checkpoint = selectors.checkpoints_of_staff(request.user).filter(code=code).first()
    if checkpoint is None:
        raise Http404
    return render(request, "checkpoints/detail.html", {"checkpoint": checkpoint})


app_name = "checkpoints"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", checkpoint_index, name="index"),
    path("<str:code>/", checkpoint_detail, name="detail"),
]
