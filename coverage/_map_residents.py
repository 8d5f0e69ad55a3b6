"""Residents on the web map: population cells by status (shown) and dots (off by default).

Both are aggregates of the resident units and both have a budget, so that a
whole city stays a page a browser opens: the cells grow from ``cell_m``
(100 m) in steps of 2x until a group has at most ``max_cells`` of them, and
the dots merge into cells of 20 m, 40 m, ... until at most ``max_points``
remain. A layer that was coarsened says so in its name and in the note of
the summary box; exact values stay in the tables (``residents``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._format import fmt_m, fmt_people, group_name
from ._map_geo import Shift, features, pack_quads, to_display
from ._map_layers import COLORS, layer

if TYPE_CHECKING:
    from .assess import CoverageResult

#: Most population cells drawn for one group (all statuses together).
MAX_CELLS: Final = 30_000
_STATUSES: Final = ("covered", "uncovered", "unreachable")


def _cell_keys(x: np.ndarray, y: np.ndarray, status: np.ndarray, cell_m: float) -> np.ndarray:
    cx = np.floor(x / cell_m).astype(np.int64)
    cy = np.floor(y / cell_m).astype(np.int64)
    return (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) * 4 + (cy - cy.min()) * 4 + status


def cell_size(units: gpd.GeoDataFrame, cell_m: float, max_cells: int) -> float:
    """Return ``cell_m`` doubled as often as needed for at most ``max_cells`` (status, cell) pairs."""
    if not len(units):
        return cell_m
    x = units.geometry.x.to_numpy()
    y = units.geometry.y.to_numpy()
    status = pd.Categorical(units["status"].astype(str), categories=_STATUSES).codes.astype(np.int64)
    size = cell_m
    while np.unique(_cell_keys(x, y, status, size)).size > max_cells:
        size *= 2
    return size


def resident_cells(
    coverage: CoverageResult,
    group: str,
    shift: Shift | None,
    L: dict[str, str],
    lang: str,
    *,
    cell_m: float,
    main: bool,
    max_cells: int | None = None,
) -> list[dict]:
    """Residents by status aggregated to square cells (opacity by population)."""
    units = coverage.units[coverage.units["group"] == group]
    if not len(units):
        return []
    size = cell_size(units, cell_m, MAX_CELLS if max_cells is None else max_cells)
    x = units.geometry.x.to_numpy()
    y = units.geometry.y.to_numpy()
    frame = pd.DataFrame(
        {
            "cx": np.floor(x / size).astype(np.int64),
            "cy": np.floor(y / size).astype(np.int64),
            "status": units["status"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=float),
        }
    )
    agg = frame.groupby(["status", "cx", "cy"], sort=True)["population"].sum().reset_index()
    agg = agg[agg["population"] > 0]
    peak = float(agg["population"].max()) if len(agg) else 1.0
    out = []
    gname = group_name(group, lang)
    for status in _STATUSES:
        sub = agg[agg["status"] == status]
        if not len(sub):
            continue
        x0 = sub["cx"].to_numpy() * size
        y0 = sub["cy"].to_numpy() * size
        boxes = shapely.box(x0, y0, x0 + size, y0 + size)
        shown = to_display(gpd.GeoSeries(boxes, crs=coverage.units.crs), shift)
        opacity = 0.12 + 0.6 * np.sqrt(sub["population"].to_numpy() / peak)
        people = np.round(sub["population"].to_numpy())  # as fmt_people rounds (half to even)
        cells = {
            "q": pack_quads(shown.to_numpy()),
            "n": people.astype(np.int64),
            "o": [round(float(o), 3) for o in opacity],
        }
        total = float(coverage.summary.loc[coverage.summary["group"] == group, status].sum())
        label = L[status] if main else f"{L[status]}（{gname}）" if lang == "zh" else f"{L[status]} ({gname})"
        name = L["cells"].format(label=f"{label} {fmt_people(total)}", c=f"{size:g}")
        spec = layer(
            name,
            "cells",
            {"type": "FeatureCollection", "features": []},
            show=main,
            style={"color": COLORS[status], "weight": 0, "fillColor": COLORS[status], "fillOpacity": 0.4},
            opacityKey="o",
            cells=cells,
            tip=[f"{L[status]}{L['colon']}", f" {L['residents']}"],
        )
        if size != cell_m:
            spec["note"] = L["reduced_cells"].format(label=label, c=f"{size:g}", c0=f"{cell_m:g}")
        out.append(spec)
    return out


def resident_dots(
    coverage: CoverageResult, group: str, shift: Shift | None, L: dict[str, str], lang: str, *, max_points: int
) -> list[dict]:
    """Residents as points (off by default); above ``max_points`` merged to cells of 20 m, 40 m, ..."""
    units = coverage.units[coverage.units["group"] == group]
    if not len(units):
        return []
    frame = pd.DataFrame(
        {
            "x": units.geometry.x.to_numpy(),
            "y": units.geometry.y.to_numpy(),
            "status": units["status"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=float),
            "distance_m": units["distance_m"].replace([np.inf], np.nan).to_numpy(dtype=float),
        }
    )
    merge_m = 0.0
    if len(frame) > max_points:
        merge_m = cell_size(units, 20.0, max_points)
        frame["cx"] = np.floor(frame["x"] / merge_m)
        frame["cy"] = np.floor(frame["y"] / merge_m)
        frame = (
            frame.groupby(["status", "cx", "cy"], sort=True)
            .agg(x=("x", "mean"), y=("y", "mean"), population=("population", "sum"), distance_m=("distance_m", "min"))
            .reset_index()
        )
    peak = float(frame["population"].max()) if len(frame) else 1.0
    out = []
    for status in _STATUSES:
        sub = frame[frame["status"] == status]
        if not len(sub):
            continue
        pts = to_display(gpd.GeoSeries(gpd.points_from_xy(sub["x"], sub["y"]), crs=coverage.units.crs), shift)
        props = [
            {
                "r": round(1.5 + 3.5 * float(np.sqrt(p / peak)), 2),
                "tip": f"{fmt_people(p)} {L['residents']}"
                + (f"；{L['distance']}{L['colon']}{fmt_m(d, lang)}" if np.isfinite(d) else ""),
            }
            for p, d in zip(sub["population"], sub["distance_m"], strict=True)
        ]
        spec = layer(
            L["dots"].format(label=L[status]),
            "points",
            features(pts.to_numpy(), props),
            show=False,
            style={"radius": 3, "weight": 0, "fillColor": COLORS[status], "fillOpacity": 0.75, "fill": True},
            radiusKey="r",
        )
        if merge_m > 20.0:
            spec["name"] = L["dots_merged"].format(label=L[status], c=f"{merge_m:g}")
            spec["note"] = spec["name"]
        out.append(spec)
    return out
