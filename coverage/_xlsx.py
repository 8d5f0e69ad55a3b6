"""The Excel workbook of a run (openpyxl): one sheet per table, one per reporting area.

Tables arrive already prepared by :func:`coverage.io.table_for_people` (ids
as text, people as whole numbers, text safe for spreadsheets). Here headers
are translated, ids are typed as text cells (so 20-digit ids stay exact),
and number formats show people with thousands separators and shares as
percentages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from ._text import sheet_cell

SHEET_NAMES: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "about": "说明",
        "halls": "现有站点",
        "service_areas": "服务范围",
        "service_area_union": "服务范围合并",
        "residents": "居民点",
        "gaps": "服务空白区",
        "coverage_summary": "覆盖概况",
        "coverage_by_hall": "各站点覆盖",
        "coverage_by_area": "各片区覆盖",
        "coverage_by_community": "各社区覆盖",
        "services_summary": "各类服务覆盖",
        "services_met": "服务满足情况",
        "proposed_sites": "建议新增站点",
        "proposed_service_areas": "新增站点服务范围",
        "coverage_after": "新增后覆盖",
        "coverage_curve": "覆盖曲线",
    },
    "en": {"about": "about"},
}

HEADERS_ZH: Final[dict[str, str]] = {
    "site_id": "站点编号",
    "name": "名称",
    "address": "地址",
    "demand_id": "居民点编号",
    "group": "人群",
    "population": "人口",
    "estimate": "是否估算",
    "source_id": "来源编号",
    "status": "覆盖状态",
    "distance_m": "步行距离（米）",
    "nearest_site": "最近站点编号",
    "halls_within": "可达站点数",
    "access_m": "接入路网距离（米）",
    "circle_covered": "直线圆内人口",
    "gap_id": "空白区编号",
    "units": "居民点数",
    "total": "总人口",
    "covered": "已覆盖人口",
    "uncovered": "未覆盖人口",
    "unreachable": "未接入路网人口",
    "units_covered": "已覆盖居民点数",
    "units_uncovered": "未覆盖居民点数",
    "units_unreachable": "未接入路网居民点数",
    "covered_share": "覆盖率",
    "circle_share": "直线圆覆盖率",
    "circle_overstatement_pp": "直线圆高估（百分点）",
    "snapped": "已接入路网",
    "population_served": "服务人口",
    "population_within": "可达人口",
    "area": "片区",
    "community": "社区",
    "centroid_x": "中心 X（米）",
    "centroid_y": "中心 Y（米）",
    "area_km2": "面积（平方公里）",
    "nearest_hall_m": "距最近站点（米）",
    "mean_distance_m": "平均步行距离（米）",
    "minor": "零散",
    "rank": "建设顺序",
    "candidate_id": "候选点编号",
    "source": "候选来源",
    "marginal_population": "新增覆盖人口",
    "cumulative_population": "累计新增覆盖人口",
    "radius_m": "半径（米）",
    "reached_length_m": "可达道路长度（米）",
    "area_m2": "面积（平方米）",
    "circle_area_m2": "直线圆面积（平方米）",
    "area_vs_circle": "面积/直线圆",
    "halls": "站点数",
    "k": "新增站点数",
    "covered_weight": "覆盖人口",
    "upper_bound": "上界",
    "gap": "与最优差距",
    "optimal": "已证明最优",
    "new_weight": "新增覆盖人口",
    "sites": "候选点序号",
    "lon": "经度",
    "lat": "纬度",
    "datum": "坐标系",
    "lon_gcj02": "经度（GCJ-02）",
    "lat_gcj02": "纬度（GCJ-02）",
    "x_m": "X（米）",
    "y_m": "Y（米）",
}

_BAD_SHEET_CHARS: Final = re.compile(r"[\[\]:*?/\\']")
_PEOPLE_FORMAT: Final = "#,##0"


def _sheet_title(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip() or "sheet"
    base = base[:28]
    title = base
    i = 2
    while title.lower() in used:
        title = f"{base[:25]}_{i}"
        i += 1
    used.add(title.lower())
    return title


def _number_format(col: str) -> str | None:
    from .io import PEOPLE_COLUMNS

    if col in PEOPLE_COLUMNS:
        return _PEOPLE_FORMAT
    if col.endswith("share"):
        return "0.0%"
    if col in ("lon", "lat", "lon_gcj02", "lat_gcj02"):
        return "0.0000000"
    if col.endswith(("_m", "_m2")) or col in ("centroid_x", "centroid_y"):
        return "#,##0.00"
    return None


def _cell_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _write_sheet(wb: Any, title: str, table: pd.DataFrame, lang: str) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    header = []
    for col in table.columns:
        text = HEADERS_ZH.get(str(col), str(col)) if lang == "zh" else str(col)
        cell = WriteOnlyCell(ws, value=sheet_cell(text))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    formats = [_number_format(str(c)) for c in table.columns]
    for row in table.itertuples(index=False):
        cells = []
        for value, fmt in zip(row, formats, strict=True):
            cell = WriteOnlyCell(ws, value=_cell_value(value))
            if isinstance(value, str):
                cell.data_type = "s"
            elif fmt is not None:
                cell.number_format = fmt
            cells.append(cell)
        ws.append(cells)


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, *, lang: str, area_col: str, max_rows: int) -> Path:
    """Write the prepared tables to ``path`` (see :func:`coverage.io.write_xlsx`)."""
    from openpyxl import Workbook

    names = SHEET_NAMES.get(lang, {})
    wb = Workbook(write_only=True)
    used: set[str] = set()
    skipped = [name for name, t in tables.items() if len(t) > max_rows]
    header = ["表" if lang == "zh" else "table", "行数" if lang == "zh" else "rows"]
    about_rows: list[list[Any]] = [[names.get(n, n), len(t)] for n, t in tables.items()]
    if skipped:
        note = (
            f"以下表格超过 {max_rows:,} 行，仅见 CSV："
            if lang == "zh"
            else f"Tables over {max_rows:,} rows are in CSV only: "
        )
        about_rows.append([note + ", ".join(skipped), None])
    about = pd.DataFrame(about_rows, columns=header)
    _write_sheet(wb, _sheet_title(names.get("about", "about"), used), about, "en")
    for name, table in tables.items():
        if name in skipped:
            continue
        _write_sheet(wb, _sheet_title(names.get(name, name), used), table, lang)
    by_area = tables.get("coverage_by_area")
    if by_area is not None and area_col in by_area.columns:
        for area, rows in by_area.groupby(area_col, sort=True):
            _write_sheet(wb, _sheet_title(str(area), used), rows.reset_index(drop=True), lang)
    if path.is_symlink():
        path.unlink()
    wb.save(path)
    return path
