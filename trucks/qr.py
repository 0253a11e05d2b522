"""QR images of pass tokens, as PNG and SVG, cached by token (tokens never change meaning)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.cache import cache

# Error correction M survives a scuffed screen or a fold in a paper pass; docs/architecture.md, "The
# pass code" caps the symbol at version 8 so a phone screen scans fast in sunlight. Tokens fit
# version 5.
MAX_VERSION = 8


def _build(token: str) -> qrcode.QRCode:
    code = qrcode.QRCode(
        version=None, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4
    )
    code.add_data(token)
    code.make(fit=True)
    if code.version > MAX_VERSION:
        raise ValueError(f"token needs QR version {code.version}, above {MAX_VERSION}")
    return code


def qr_version(token: str) -> int:
    return int(_build(token).version)


def _cached(kind: str, token: str, render: bytes) -> None:
    cache.set(f"qr:{kind}:{token}", render, settings.QR_CACHE_SECONDS)


def qr_png(token: str) -> bytes:
    key = f"qr:png:{token}"
    data = cache.get(key)
    if data is None:
        buffer = io.BytesIO()
        _build(token).make_image().save(buffer, format="PNG")
        data = buffer.getvalue()
        _cached("png", token, data)
    return bytes(data)


def qr_svg(token: str) -> bytes:
    key = f"qr:svg:{token}"
    data = cache.get(key)
    if data is None:
        image = _build(token).make_image(image_factory=qrcode.image.svg.SvgPathImage)
        data = image.to_string(encoding="unicode").encode("utf-8")
        _cached("svg", token, data)
    return bytes(data)
