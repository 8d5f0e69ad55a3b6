"""The tables of the report (formatted text, the same in report.html and report.docx)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._format import fmt_km2, fmt_lonlat, fmt_m, fmt_people, fmt_share, group_name
from ._text import display

if TYPE_CHECKING:
    from .pipeline import RunResult

__all__ = ["area_table", "circle_table", "gap_table", "site_table"]


def _lonlat_columns(frame: Any, L: dict[str, str], points: Any) -> dict[str, list[str]]:
    from .crs import wgs84_to_gcj02

    wgs = points.to_crs("EPSG:4326")
    lon, lat = wgs.x.to_numpy(), wgs.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    return {
        "WGS-84": [f"{fmt_lonlat(a)}, {fmt_lonlat(b)}" for a, b in zip(lon, lat, strict=True)],
        "GCJ-02": [f"{fmt_lonlat(a)}, {fmt_lonlat(b)}" for a, b in zip(glon, glat, strict=True)],
    }


def _headers(lang: str, names: dict[str, tuple[str, str]]) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in names.items()}


def circle_table(result: RunResult, L: dict[str, str], lang: str) -> pd.DataFrame:
    """Return each hall's walking area against its circle, smallest ratio first."""
    assert result.areas is not None
    cov = result.coverage
    radius = cov.radius_m if cov is not None else float(result.areas.areas["radius_m"].max())
    a = result.areas.areas[result.areas.areas["radius_m"] == radius]
    served = cov.halls.drop_duplicates("site_id").set_index("site_id")["population_served"] if cov is not None else None
    h = _headers(
        lang,
        {
            "name": ("站点", "site"),
            "served": ("服务居民", "residents served"),
            "reach": ("可达道路（公里）", "streets reached (km)"),
            "ratio": ("步行范围 / 直线圆", "walking area / circle"),
        },
    )
    rows = []
    for rec in a.sort_values("area_vs_circle").itertuples():
        rows.append(
            {
                h["name"]: display(rec.name),
                h["served"]: fmt_people(served.get(rec.site_id, 0.0)) if served is not None else "",
                h["reach"]: f"{rec.reached_length_m / 1000:,.2f}",
                h["ratio"]: fmt_share(rec.area_vs_circle, 0),
            }
        )
    return pd.DataFrame(rows)


def area_table(areas: pd.DataFrame, L: dict[str, str], lang: str) -> pd.DataFrame:
    """Return coverage per area (or community) and group, as text."""
    h = _headers(
        lang,
        {
            "area": ("片区", "area"),
            "group": ("人群", "group"),
            "total": ("居民", "residents"),
            "covered": ("已覆盖", "covered"),
            "share": ("覆盖率", "share"),
            "circle": ("直线圆覆盖率", "circle share"),
        },
    )
    rows = []
    for rec in areas.itertuples():
        rows.append(
            {
                h["area"]: display(rec.area),
                h["group"]: group_name(str(rec.group), lang),
                h["total"]: fmt_people(rec.total),
                h["covered"]: fmt_people(rec.covered),
                h["share"]: fmt_share(rec.covered_share),
                h["circle"]: fmt_share(rec.circle_share),
            }
        )
    return pd.DataFrame(rows)


def gap_table(gaps: Any, L: dict[str, str], lang: str, street_of: Any) -> pd.DataFrame:
    """Return the gaps with residents, area, nearest hall, centre coordinates and nearest named street."""
    h = _headers(
        lang,
        {
            "id": ("编号", "gap"),
            "pop": ("未覆盖居民", "residents"),
            "area": ("面积", "area"),
            "near": ("距最近站点（直线）", "nearest site (straight line)"),
            "street": ("附近道路", "nearest named street"),
        },
    )
    centres = gaps.geometry.representative_point()
    coords = _lonlat_columns(gaps, L, centres)
    streets = street_of(np.column_stack([centres.x, centres.y])) if street_of is not None else [""] * len(gaps)
    rows = []
    for i, rec in enumerate(gaps.itertuples()):
        rows.append(
            {
                h["id"]: display(rec.gap_id),
                h["pop"]: fmt_people(rec.population),
                h["area"]: fmt_km2(rec.area_km2, lang),
                h["near"]: fmt_m(rec.nearest_hall_m, lang),
                "WGS-84": coords["WGS-84"][i],
                "GCJ-02": coords["GCJ-02"][i],
                h["street"]: streets[i] or "—",
            }
        )
    return pd.DataFrame(rows)


def site_table(sites: Any, L: dict[str, str], lang: str, street_of: Any) -> pd.DataFrame:
    """Return the proposed sites in build order: residents added, coordinates, nearest named street."""
    h = _headers(
        lang,
        {
            "rank": ("建设顺序", "order"),
            "adds": ("新增覆盖居民", "residents added"),
            "cum": ("累计新增", "cumulative"),
            "street": ("附近道路", "nearest named street"),
        },
    )
    coords = _lonlat_columns(sites, L, sites.geometry)
    streets = (
        street_of(np.column_stack([sites.geometry.x, sites.geometry.y])) if street_of is not None else [""] * len(sites)
    )
    rows = []
    for i, rec in enumerate(sites.itertuples()):
        rows.append(
            {
                h["rank"]: str(int(rec.rank)),
                h["adds"]: fmt_people(rec.marginal_population),
                h["cum"]: fmt_people(getattr(rec, "cumulative_population", float("nan"))),
                "WGS-84": coords["WGS-84"][i],
                "GCJ-02": coords["GCJ-02"][i],
                h["street"]: streets[i] or "—",
            }
        )
    return pd.DataFrame(rows)
