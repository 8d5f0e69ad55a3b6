"""A printable map of a run (``map.png`` and ``map.pdf``) drawn with matplotlib.

One landscape sheet (A4 or A3) with the streets, the reporting areas and
their names, the walking area of the existing halls over their straight-line
circles, residents not covered (population cells), the gap areas, the halls
(off-network ones marked) and the proposed sites with their build order; a
title, legend, metric scale bar, north arrow, date, data notes and the OSM
attribution. Chinese labels use the first CJK font found (Noto Sans CJK,
WenQuanYi Zen Hei, Microsoft YaHei, PingFang, SimHei), embedded in the PDF.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from ._errors import CoverageInputError, warn
from ._format import labels
from ._map_geo import simplify_each
from ._map_layers import COLORS, MAJOR_HIGHWAYS
from ._static_parts import north_arrow, quiet_font_fallback, scale_bar, side_text
from ._text import display

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .assess import CoverageResult
    from .network import WalkNetwork
    from .plan import SitePlan
    from .service_areas import ServiceAreas

__all__ = ["PAPER_MM", "cjk_font", "draw_static_map", "save_static_map"]

#: Landscape sheet sizes in millimetres.
PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)


def cjk_font() -> str | None:
    """Return the name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


#: Above this many street edges the heavy layers are drawn as images inside
#: the PDF (rasterized at :data:`PDF_DPI`), so a city's sheet stays small and fast.
RASTER_EDGES = 30_000
PDF_DPI = 200


def _compound_path(geoms: Any, *, polygons: bool) -> Any:
    """One matplotlib path for many lines or polygons (rings oriented so that holes stay holes)."""
    from matplotlib.path import Path as MplPath

    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[~shapely.is_empty(parts)]
    if polygons:
        parts = shapely.get_rings(shapely.orient_polygons(parts))
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if not len(coords):
        return None
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    codes[starts] = MplPath.MOVETO
    if polygons:
        codes[np.append(starts[1:], len(coords)) - 1] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _lines(ax: Axes, geoms: Any, *, tolerance_m: float = 0.0, **style: Any) -> None:
    """Draw lines as one path, each simplified to ``tolerance_m`` (half a printed dot) on its own."""
    path = _compound_path(simplify_each(geoms, tolerance_m), polygons=False)
    if path is not None:
        _add_path(ax, path, facecolor="none", capstyle="round", joinstyle="round", **style)


def _polygons(ax: Axes, geoms: Sequence[Any], *, tolerance_m: float = 0.0, **style: Any) -> None:
    """Draw polygons as one path (faster than a patch each: a city has thousands with holes)."""
    path = _compound_path(simplify_each(list(geoms), tolerance_m), polygons=True)
    if path is not None:
        _add_path(ax, path, **style)


def _add_path(ax: Axes, path: Any, **style: Any) -> None:
    """Add one path as a collection, without the per-segment extent computation of ``add_patch``."""
    from matplotlib.collections import PathCollection

    ax.add_collection(PathCollection([path], **style), autolim=False)


def draw_static_map(
    net: WalkNetwork,
    *,
    service: ServiceAreas | None = None,
    coverage: CoverageResult | None = None,
    plan: SitePlan | None = None,
    halls: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    title: str = "",
    notes: Sequence[str] = (),
    stand_in: bool = False,
    lang: str = "zh",
    paper: str = "A3",
    cell_m: float = 100.0,
    date: dt.date | None = None,
    street_names: Any = None,
) -> Figure:
    """Draw the printable map on one landscape sheet; see the module notes.

    Parameters
    ----------
    net : WalkNetwork
        Streets, the metric CRS and the extent.
    service, coverage, plan, halls, areas, area_name_col
        As for :func:`coverage.maps.coverage_map`.
    title : str
        Printed at the top (user text: cleaned, cut to one line).
    notes : sequence of str
        Data notes printed under the legend (estimates, stand-ins, sources).
    stand_in : bool
        The halls are stand-ins (said in the legend).
    lang : {"zh", "en"}
        Language of every label.
    paper : {"A4", "A3"}
        Landscape sheet size.
    cell_m : float
        Side of the population cells.
    date : datetime.date, optional
        Printed as the date the map was made (default: today).
    street_names : array of str, optional
        Name of each edge of ``net``: the major roads are labelled.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    L = labels(lang)
    if paper not in PAPER_MM:
        raise CoverageInputError(f"paper={paper!r}: use 'A4' or 'A3'.")
    font = cjk_font()
    if font is None and lang == "zh":
        warn(
            "no font with Chinese glyphs is installed (e.g. fonts-noto-cjk or fonts-wqy-zenhei); "
            "the Chinese labels of map.png/map.pdf will not show."
        )
    rc: dict[Any, Any] = {"pdf.fonttype": 42, "font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    w_mm, h_mm = PAPER_MM[paper]
    with plt.rc_context(rc), quiet_font_fallback():
        fig = plt.figure(figsize=(w_mm / 25.4, h_mm / 25.4))
        ax = fig.add_axes((0.02, 0.05, 0.70, 0.85))
        side = fig.add_axes((0.735, 0.05, 0.25, 0.85))
        side.axis("off")
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        hw = np.asarray([str(h) for h in net.edge_highway], dtype=object)
        major = np.isin(hw, list(MAJOR_HIGHWAYS))
        minx, miny, maxx, maxy = shapely.total_bounds(net.edge_geometry)
        # A city: heavy layers simplified to half a printed dot and drawn as images in the PDF.
        big = len(net.edge_geometry) > RASTER_EDGES
        dots = 0.70 * w_mm / 25.4 * 150
        tol = 0.5 * max(maxx - minx, maxy - miny) / dots if big else 0.0
        heavy: dict[str, Any] = {"rasterized": True} if big else {}
        _lines(
            ax, net.edge_geometry[~major], tolerance_m=tol, edgecolor=COLORS["street"], linewidth=0.5, zorder=1, **heavy
        )
        _lines(
            ax, net.edge_geometry[major], tolerance_m=tol, edgecolor=COLORS["major"], linewidth=1.4, zorder=1, **heavy
        )
        handles: list[Any] = [Line2D([], [], color=COLORS["major"], lw=1.4, label=L["streets"])]
        if street_names is not None:
            from ._map_layers import road_labels

            names, points = road_labels(net, np.asarray(street_names, dtype=object))
            for name, pt in zip(names, points, strict=True):
                ax.text(
                    pt.x,
                    pt.y,
                    name,
                    fontsize=6.5,
                    color="#495057",
                    ha="center",
                    va="center",
                    zorder=7,
                    parse_math=False,
                    clip_on=True,
                )
        hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
        if areas is not None and len(areas):
            _draw_areas(ax, areas, area_name_col, hull, net.crs)
        radius = coverage.radius_m if coverage is not None else None
        if service is not None:
            at = service.union["radius_m"] == (radius if radius is not None else service.union["radius_m"].max())
            union = service.union[at] if at.any() else service.union
            _polygons(
                ax, union.geometry, tolerance_m=tol, color=COLORS["union"], alpha=0.22, linewidth=0, zorder=3, **heavy
            )
            r = float(union["radius_m"].iloc[0])
            handles.append(Patch(color=COLORS["union"], alpha=0.4, label=L["union"].format(r=f"{r:g}")))
        if coverage is not None:
            _draw_cells(ax, coverage, cell_m, **heavy)
            handles.append(Patch(color=COLORS["uncovered"], alpha=0.6, label=L["uncovered"]))
            gaps = coverage.gaps
            if len(gaps):
                _polygons(
                    ax,
                    gaps.geometry,
                    tolerance_m=tol,
                    facecolor="none",
                    edgecolor=COLORS["gap"],
                    linewidth=1.2,
                    linestyle="--",
                    zorder=5,
                )
                handles.append(Patch(facecolor="none", edgecolor=COLORS["gap"], linestyle="--", label=L["gaps"]))
        hall_frame = service.sites if service is not None else halls
        if hall_frame is not None and len(hall_frame):
            sites = hall_frame.to_crs(net.crs)
            r_circle = radius if radius is not None else 500.0
            circles = shapely.buffer(sites.geometry.to_numpy(), r_circle, quad_segs=16)
            _polygons(
                ax,
                circles,
                facecolor="none",
                edgecolor=COLORS["circle"],
                linewidth=0.7,
                linestyle=":",
                zorder=4,
                **heavy,
            )
            handles.append(
                Line2D([], [], color=COLORS["circle"], lw=0.8, ls=":", label=L["circles"].format(r=f"{r_circle:g}"))
            )
            snapped = (
                sites["snapped"].astype(bool).to_numpy() if "snapped" in sites.columns else np.ones(len(sites), bool)
            )
            ax.scatter(
                sites.geometry.x[snapped],
                sites.geometry.y[snapped],
                s=28,
                c=COLORS["hall"],
                edgecolors="white",
                linewidths=0.8,
                zorder=8,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    color=COLORS["hall"],
                    markeredgecolor="white",
                    label=L["halls"] + (L["stand_in"] if stand_in else ""),
                )
            )
            if (~snapped).any():
                ax.scatter(
                    sites.geometry.x[~snapped],
                    sites.geometry.y[~snapped],
                    s=40,
                    facecolors="white",
                    edgecolors=COLORS["unsnapped"],
                    linewidths=1.5,
                    zorder=8,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="o",
                        ls="",
                        markerfacecolor="white",
                        markeredgecolor=COLORS["unsnapped"],
                        label=L["unsnapped"],
                    )
                )
        if plan is not None and len(plan.sites):
            ps = plan.sites.to_crs(net.crs)
            ax.scatter(
                ps.geometry.x, ps.geometry.y, s=170, c=COLORS["proposed"], edgecolors="white", linewidths=1.2, zorder=9
            )
            for x, y, rank in zip(ps.geometry.x, ps.geometry.y, ps["rank"], strict=True):
                ax.text(
                    x,
                    y,
                    str(int(rank)),
                    color="white",
                    ha="center",
                    va="center",
                    fontsize=8,
                    fontweight="bold",
                    zorder=10,
                    parse_math=False,
                )
            handles.append(
                Line2D([], [], marker="o", ls="", markersize=10, color=COLORS["proposed"], label=L["proposed"])
            )
        ax.set_xlabel("")
        ax.set_ylabel("")
        pad = 0.03 * max(maxx - minx, maxy - miny)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        scale_bar(ax, L, lang)
        north_arrow(ax, L)
        fig.text(
            0.02,
            0.955,
            display(title, 90),
            fontsize=16 if paper == "A3" else 13,
            fontweight="bold",
            va="center",
            parse_math=False,
        )
        side.legend(
            handles=handles,
            loc="upper left",
            title=L["legend"],
            fontsize=9,
            title_fontsize=10,
            frameon=False,
            alignment="left",
        )
        side_text(side, coverage, plan, L, lang, notes, date or dt.date.today())
    return fig


def _draw_areas(ax: Axes, areas: gpd.GeoDataFrame, name_col: str | None, hull: Any, crs: Any) -> None:
    frame = areas.to_crs(crs)
    frame = frame[frame.intersects(hull)]
    if not len(frame):
        return
    clipped = frame.geometry.intersection(hull)
    _polygons(
        ax,
        clipped,
        facecolor="none",
        edgecolor=COLORS["areas"],
        linewidth=1.0,
        linestyle=(0, (6, 3)),
        alpha=0.7,
        zorder=2,
    )
    if name_col is not None and name_col in frame.columns:
        for geom, name in zip(clipped, frame[name_col], strict=True):
            p = geom.representative_point()
            ax.text(
                p.x,
                p.y,
                display(name, 30),
                color="#5f3dc4",
                fontsize=10,
                ha="center",
                va="center",
                fontweight="bold",
                alpha=0.8,
                zorder=6,
                parse_math=False,
            )


def _draw_cells(ax: Axes, coverage: CoverageResult, cell_m: float, **style: Any) -> None:
    from matplotlib.collections import PolyCollection

    units = coverage.units[coverage.units["status"].astype(str) == "uncovered"]
    groups = coverage.summary["group"].astype(str).tolist()
    main = "residents" if "residents" in groups else (groups[0] if groups else None)
    units = units[units["group"].astype(str) == main]
    if not len(units):
        return
    cx = np.floor(units.geometry.x.to_numpy() / cell_m)
    cy = np.floor(units.geometry.y.to_numpy() / cell_m)
    keys, inverse = np.unique(np.column_stack([cx, cy]), axis=0, return_inverse=True)
    pop = np.bincount(inverse.ravel(), weights=units["population"].to_numpy(dtype=float))
    alpha = 0.12 + 0.6 * np.sqrt(pop / pop.max())
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    verts = (keys[:, None, :] + corners[None, :, :]) * cell_m  # cells x 4 corners x (x, y)
    colors = np.tile(np.array([[0.91, 0.35, 0.05, 1.0]]), (len(verts), 1))
    colors[:, 3] = alpha
    ax.add_collection(PolyCollection(verts, facecolors=colors, edgecolors="none", zorder=2, **style))


def save_static_map(fig: Figure, folder: str | os.PathLike[str], *, dpi: int = 150) -> dict[str, Path]:
    """Write ``map.png`` and ``map.pdf`` (one page, fonts embedded, no creation date) into ``folder``."""
    import matplotlib.pyplot as plt

    out = Path(folder)
    png, pdf = out / "map.png", out / "map.pdf"
    for path in (png, pdf):
        if path.is_symlink():
            path.unlink()
    # TrueType (Type 42) fonts, subset and embedded: text stays searchable and copyable.
    with plt.rc_context({"pdf.fonttype": 42}), quiet_font_fallback():
        fig.savefig(png, dpi=dpi, metadata={"Software": None})
        fig.savefig(pdf, dpi=PDF_DPI, metadata={"CreationDate": None, "Creator": "coverage-planner"})
    plt.close(fig)
    return {"png": png, "pdf": pdf}
