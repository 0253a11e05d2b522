"""Two views for the message middleware's tests: one adds a message and redirects, as the
product's forms do; the other lists the messages it finds, as the base template does."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import path


def add(request: HttpRequest) -> HttpResponse:
    messages.success(request, "保存好了")
    return redirect("/shown/")


def shown(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"messages": [str(m) for m in messages.get_messages(request)]})


def quiet(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("add/", add), path("shown/", shown), path("quiet/", quiet)]
