"""QR images of pass tokens, read back with a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import zxingcpp
from django.core.cache import cache
from PIL import Image

from trucks import passcode, qr

UNTIL = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token() -> str:
    return passcode.encode(pass_id=123_456, valid_until=UNTIL)


def read(png: bytes) -> list[Any]:
    return list(zxingcpp.read_barcodes(Image.open(io.BytesIO(png))))


def test_the_png_decodes_back_to_the_exact_token(token: str) -> None:
    png = qr.qr_png(token)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (barcode,) = read(png)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == token
    assert barcode.ec_level == "M"


def test_the_decoded_token_verifies(token: str) -> None:
    (barcode,) = read(qr.qr_png(token))
    assert passcode.decode(barcode.text).pass_id == 123_456


def test_the_largest_token_still_scans() -> None:
    token = passcode.encode(pass_id=2**32 - 1, valid_until=datetime(2200, 1, 1, tzinfo=UTC))
    (barcode,) = read(qr.qr_png(token))
    assert barcode.text == token


def test_it_fits_qr_version_5_well_under_the_cap_of_8(token: str) -> None:
    assert qr.qr_version(token) == 5
    assert qr.qr_version(token) <= qr.MAX_VERSION == 8
    # 37 modules (version 5) plus a 4-module quiet zone each side, 10 pixels a module.
    with Image.open(io.BytesIO(qr.qr_png(token))) as image:
        assert image.size == (450, 450)


def test_it_refuses_data_that_would_need_a_bigger_symbol() -> None:
    with pytest.raises(ValueError, match="version"):
        qr.qr_version("A" * 400)


def test_the_svg_is_well_formed_xml(token: str) -> None:
    svg = qr.qr_svg(token)
    root = ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert paths and paths[0].get("d")
    svg.decode("utf-8")


def test_different_tokens_give_different_images(token: str) -> None:
    other = passcode.encode(pass_id=123_457, valid_until=UNTIL)
    assert qr.qr_png(token) != qr.qr_png(other)
    assert qr.qr_svg(token) != qr.qr_svg(other)
    (barcode,) = read(qr.qr_png(other))
    assert barcode.text == other


def test_the_cache_returns_identical_bytes_without_rendering_again(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    build = qr._build

    def counting_build(text: str) -> Any:
        calls.append(text)
        return build(text)

    monkeypatch.setattr(qr, "_build", counting_build)

    png = qr.qr_png(token)
    assert qr.qr_png(token) == png
    assert calls == [token]

    svg = qr.qr_svg(token)
    assert qr.qr_svg(token) == svg
    assert calls == [token, token]

    # A cleared cache renders again, to the same picture.
    cache.clear()
    assert qr.qr_png(token) == png
    assert len(calls) == 3
