"""Number formats and the labels of every output, in Chinese and English.

One place for how people, shares, distances and areas are written (the map,
the report, the workbook headers and the notebook tables use the same
helpers), and for the wording of each label. The Chinese wording follows
Shenzhen usage: 街道 is a sub-district, so streets are 步行路网 / 道路;
residents too far from any street are 未接入路网; Chinese text uses
full-width punctuation (``：``, ``（）``).

Examples
--------
>>> fmt_people(1234.6), fmt_share(0.4567), fmt_km2(1.234, "zh")
('1,235', '45.7%', '1.23 平方公里')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from ._errors import CoverageInputError

LANGS: Final = ("zh", "en")

LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "colon": ": ",
        "streets": "Walking network (OSM)",
        "major_roads": "Major roads",
        "halls": "Existing halls",
        "stand_in": " (stand-ins, not real halls)",
        "unsnapped": "Halls off the walking network",
        "unsnapped_reason": "{d} m from the nearest walkable street (limit {limit} m): serves nobody in this analysis",
        "areas": "Walking service area of each hall ({r} m)",
        "union": "Within a {r} m walk (all halls)",
        "circles": "Straight-line {r} m circles (for comparison)",
        "covered": "Residents covered",
        "uncovered": "Residents not covered",
        "unreachable": "Residents off the walking network",
        "cells": "{label} (per {c} m cell)",
        "dots": "{label}: points",
        "dots_merged": "{label}: points (merged into {c} m cells)",
        "reduced": "Large map, drawn simplified (exact data in results.gpkg and the tables)",
        "reduced_holes": "holes under {a} ha not drawn",
        "reduced_tolerance": "outlines simplified to {t} m",
        "reduced_cells": "{label}: cells of {c} m instead of {c0} m",
        "list_sep": "; ",
        "group": "group",
        "gaps": "Gap areas",
        "proposed": "Proposed new sites",
        "proposed_areas": "Walking service areas of new sites",
        "boundary": "Area analysed",
        "area_names": "Area names",
        "legend": "Legend",
        "summary": "Summary",
        "layers": "Layers",
        "covered_now": "Covered now",
        "covered_after": "With {n} new sites",
        "circle_claim": "A straight-line circle would claim",
        "residents": "residents",
        "of": "of",
        "served": "Residents served",
        "street": "Street length reached",
        "rank": "Build order",
        "adds": "Adds residents",
        "cumulative": "Covered after this site",
        "population": "Residents",
        "estimate": "Population figures are ESTIMATES",
        "gap": "Gap",
        "distance": "Walk to nearest hall",
        "nearest_hall": "Nearest hall (straight line)",
        "nearest_street": "Nearest named street",
        "wgs84": "WGS-84 (GPS, Tianditu)",
        "gcj02": "GCJ-02 (Amap, Tencent)",
        "id": "ID",
        "address": "Address",
        "centre": "Centre",
        "metres": "m",
        "km": "km",
        "no_plan": "No new sites were planned in this run.",
        "attribution": "Map data © OpenStreetMap contributors (ODbL)",
        "scale": "Scale",
        "north": "N",
        "made": "Made",
        "notes": "Notes",
    },
    "zh": {
        "colon": "：",
        "streets": "步行路网（OSM）",
        "major_roads": "主要道路",
        "halls": "现有服务站点",
        "stand_in": "（替代点，非真实服务站点）",
        "unsnapped": "未接入路网的站点",
        "unsnapped_reason": "距最近步行路网 {d} 米，超过 {limit} 米上限：本次分析中不服务任何居民",
        "areas": "各站点 {r} 米步行服务范围",
        "union": "{r} 米步行可达范围（全部站点）",
        "circles": "{r} 米直线圆（对比）",
        "covered": "已覆盖居民",
        "uncovered": "未覆盖居民",
        "unreachable": "未接入路网的居民",
        "cells": "{label}（每 {c} 米网格）",
        "dots": "{label}：点位",
        "dots_merged": "{label}：点位（合并为 {c} 米网格）",
        "reduced": "大范围地图，已简化绘制（精确数据见 results.gpkg 和表格）",
        "reduced_holes": "不显示小于 {a} 公顷的空洞",
        "reduced_tolerance": "轮廓简化至 {t} 米",
        "reduced_cells": "{label}：网格由 {c0} 米放大为 {c} 米",
        "list_sep": "；",
        "group": "人群",
        "gaps": "服务空白区",
        "proposed": "建议新增站点",
        "proposed_areas": "新增站点步行服务范围",
        "boundary": "分析范围",
        "area_names": "片区名称",
        "legend": "图例",
        "summary": "概要",
        "layers": "图层",
        "covered_now": "现状覆盖",
        "covered_after": "新增 {n} 个站点后",
        "circle_claim": "若按直线圆计算",
        "residents": "人",
        "of": "/",
        "served": "服务居民",
        "street": "可达道路长度",
        "rank": "建设顺序",
        "adds": "新增覆盖居民",
        "cumulative": "建成后累计覆盖",
        "population": "居民",
        "estimate": "人口为估算值",
        "gap": "空白区",
        "distance": "步行至最近站点",
        "nearest_hall": "距最近站点（直线）",
        "nearest_street": "最近的有名称道路",
        "wgs84": "WGS-84 坐标（GPS、天地图）",
        "gcj02": "GCJ-02 坐标（高德、腾讯）",
        "id": "编号",
        "address": "地址",
        "centre": "中心点",
        "metres": "米",
        "km": "公里",
        "no_plan": "本次未规划新增站点。",
        "attribution": "地图数据 © OpenStreetMap 贡献者（ODbL）",
        "scale": "比例尺",
        "north": "北",
        "made": "制图日期",
        "notes": "说明",
    },
}

GROUP_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": {"residents": "全部居民", "elderly": "老年人"},
    "en": {"residents": "all residents", "elderly": "elderly residents"},
}


def labels(lang: str) -> dict[str, str]:
    """Return the labels of ``lang`` ("zh" or "en")."""
    if lang not in LABELS:
        raise CoverageInputError(f"lang={lang!r}: use 'zh' (Chinese) or 'en' (English).")
    return LABELS[lang]


def group_name(group: str, lang: str) -> str:
    """Readable name of a demand group (the group's own name if not a known one)."""
    return GROUP_NAMES.get(lang, {}).get(group, group)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_people(value: Any) -> str:
    """People as a whole number with thousands separators ("" if missing)."""
    number = _finite(value)
    return "" if number is None else f"{number:,.0f}"


def fmt_share(value: Any, digits: int = 1) -> str:
    """Return a share 0..1 as a percentage."""
    number = _finite(value)
    return "" if number is None else f"{number:.{digits}%}"


def fmt_pp(value: Any) -> str:
    """Percentage points with one decimal."""
    number = _finite(value)
    return "" if number is None else f"{number:.1f}"


def fmt_ratio(value: Any) -> str:
    """Return a ratio such as area/circle with two decimals."""
    number = _finite(value)
    return "" if number is None else f"{number:.2f}"


def fmt_m(value: Any, lang: str = "en") -> str:
    """Return a distance in metres, whole, with the unit."""
    number = _finite(value)
    return "" if number is None else f"{number:,.0f} {LABELS[lang]['metres']}"


def fmt_km2(value: Any, lang: str = "en") -> str:
    """Return an area in square kilometres with two decimals."""
    number = _finite(value)
    return "" if number is None else f"{number:,.2f} {'平方公里' if lang == 'zh' else 'km²'}"


def fmt_lonlat(value: Any) -> str:
    """Return a longitude or latitude with 7 decimals (about 1 cm)."""
    number = _finite(value)
    return "" if number is None else f"{number:.7f}"


#: Column-name patterns and their formatters, for tables shown to people.
COLUMN_FORMATS: Final = (
    (("_share", "share"), fmt_share),
    (("_pp",), fmt_pp),
    (("area_vs_circle", "_ratio"), fmt_ratio),
    (("_km2",), lambda v: f"{_finite(v):,.2f}" if _finite(v) is not None else ""),
    (("lon", "lat", "_lon", "_lat"), fmt_lonlat),
    (("_m", "_x", "_y"), lambda v: f"{_finite(v):,.0f}" if _finite(v) is not None else ""),
    (("population", "covered", "uncovered", "unreachable", "total", "served", "within"), fmt_people),
)


def column_formatter(column: str) -> Any:
    """Return the formatter for a column name (people, shares, ratios, km², metres, degrees), or None."""
    name = str(column)
    for suffixes, func in COLUMN_FORMATS:
        if any(name == s.strip("_") or name.endswith(s) for s in suffixes):
            return func
    return None


def frame_html(frame: pd.DataFrame, *, max_rows: int = 20, formats: Mapping[str, Any] | None = None) -> str:
    """Return an HTML table for a notebook repr: each column formatted by its kind, text escaped.

    Shares as percentages, ratios with two decimals, km² with two decimals,
    people as whole numbers; the first ``max_rows`` rows.
    """
    from ._text import html_text

    shown = frame.head(max_rows)
    if "geometry" in shown.columns:
        shown = pd.DataFrame(shown.drop(columns="geometry"))
    formatters: dict[str, Any] = {}
    for col in shown.columns:
        func = (formats or {}).get(col) or column_formatter(col)
        if (
            func is not None
            and pd.api.types.is_numeric_dtype(shown[col])
            and not pd.api.types.is_bool_dtype(shown[col])
        ):
            formatters[col] = func
        else:
            formatters[col] = lambda v: html_text(v, 160)
    return shown.to_html(index=False, formatters=formatters, escape=False, na_rep="")
