"""Django's message middleware, with the message storage made only when a request uses it.

``django.contrib.messages``' middleware builds the storage (a cookie store and a session store,
with the cookie's signer) for every request, though only pages that show or add a message use
it; API requests, the scans among them, never do. Here the storage is made on first use, and a
request that never used it has nothing to save: Django's ``update()`` of an unused storage
stores nothing either. Everything else is Django's (``add_message``, ``get_messages``, the
context processor, the storage setting)."""

from __future__ import annotations

from typing import Any

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: Any) -> Any:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response
        return super().process_response(request, response)
