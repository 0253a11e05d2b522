"""Draws the scan app's icons (``checkpoints.pwa.ICONS``) into static/img/icons/ as PNGs, which
are committed: run it again only when the mark or the colours change.

The mark is the site's favicon (static/img/favicon.svg: a white rounded tile with a green QR
glyph on a 32-unit grid), drawn here with Pillow at four times the size and scaled down, so the
edges are smooth. The plain icons are the tile itself; the maskable one puts the tile on the
site's brand colour, edge to edge, small enough that every mask a launcher cuts (a circle of
80 % of the width, centred) leaves the whole tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image, ImageDraw

from checkpoints.pwa import BRAND_COLOUR, ICONS, Icon

SUPERSAMPLE = 4
GRID = 32
TILE_RADIUS = 6  # favicon.svg's rx
TILE_COLOUR = "#ffffff"
MARK_COLOUR = "#046c2c"  # the site's green (--green in app.css), as favicon.svg draws it
# favicon.svg's glyph, as (x0, y0, x1, y1) squares in grid units, each drawn solid and then its
# hole, if any, punched out in the tile's colour.
FINDERS = ((4, 4), (18, 4), (4, 18))  # the three 10-unit finder squares with 4-unit holes
MODULES = ((18, 18), (24, 18), (18, 24))  # 4-unit modules
STAIR = ((24, 30), (24, 28), (26, 28), (26, 26), (28, 26), (28, 30))
# The maskable icon's tile, as a share of the icon's width: the tile's farthest point (a rounded
# corner) stays inside the safe zone, a circle of radius 0.4 (W3C's maskable icon spec):
# (0.5 - 6/32) * 0.625 * sqrt(2) + 6/32 * 0.625 = 0.393.
MASKABLE_TILE = 0.625


def draw_tile(draw: ImageDraw.ImageDraw, left: float, top: float, unit: float) -> None:
    """favicon.svg drawn with its top left corner at (left, top), ``unit`` pixels a grid unit."""

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (left + x0 * unit, top + y0 * unit, left + x1 * unit - 1, top + y1 * unit - 1)

    draw.rounded_rectangle(box(0, 0, GRID, GRID), radius=TILE_RADIUS * unit, fill=TILE_COLOUR)
    for x, y in FINDERS:
        draw.rectangle(box(x, y, x + 10, y + 10), fill=MARK_COLOUR)
        draw.rectangle(box(x + 3, y + 3, x + 7, y + 7), fill=TILE_COLOUR)
    for x, y in MODULES:
        draw.rectangle(box(x, y, x + 4, y + 4), fill=MARK_COLOUR)
    draw.polygon([(left + x * unit, top + y * unit) for x, y in STAIR], fill=MARK_COLOUR)


def draw_icon(icon: Icon) -> Image.Image:
    big = icon.size * SUPERSAMPLE
    if icon.maskable:
        image = Image.new("RGBA", (big, big), BRAND_COLOUR)
        side = big * MASKABLE_TILE
        offset = (big - side) / 2
        draw_tile(ImageDraw.Draw(image), offset, offset, side / GRID)
    else:
        image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        draw_tile(ImageDraw.Draw(image), 0, 0, big / GRID)
    return image.resize((icon.size, icon.size), Image.Resampling.LANCZOS)


def draw_icons(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for icon in ICONS:
        target = folder / Path(icon.name).name
        draw_icon(icon).save(target, optimize=True)
        written.append(target)
    return written


class Command(BaseCommand):
    help = "Draw the scan app's icons into static/img/icons/ (committed PNGs)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--folder",
            type=Path,
            default=Path(settings.BASE_DIR) / "static" / "img" / "icons",
            help="Where to write the PNGs (default: static/img/icons/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for path in draw_icons(options["folder"]):
            self.stdout.write(str(path))
