"""Polygons with a population (census units, grid cells, hexagons) turned into demand points.

One unit at an interior point of each polygon, or the polygon's people spread
over the walkable streets inside it in proportion to street length
(:func:`demand_from_polygons`).
"""

from __future__ import annotations

import logging
import time
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._defaults import DEFAULT_DEMAND_SPACING_M
from coverage._errors import CoverageInputError, CoverageInternalError, warn
from coverage._rows import few
from coverage._types import FloatArray, ObjectArray
from coverage.network import WalkNetwork

from ._spread import _check_points_memory, _clip_lines, _numbered, _points_along, _share
from .schema import (
    _REL_TOL,
    _check_group,
    _check_metric,
    _check_spacing,
    _check_totals,
    _crs_of,
    _interior_points,
    _units,
    _validate,
)

__all__ = ["demand_from_polygons"]

logger = logging.getLogger(__name__)

_SPREAD_NOTE = (
    "Population of each input polygon shared over the walkable streets inside it "
    "in proportion to street length (points every ~{spacing:g} m); polygon totals are "
    "as given, their placement along the streets is modelled."
)


def _edges_frame(edges: gpd.GeoDataFrame | WalkNetwork, what: str = "edges") -> gpd.GeoDataFrame:
    """Check street edges (projected lines) and drop exact duplicates (two-way copies)."""
    if isinstance(edges, WalkNetwork):
        edges = edges.edges_gdf()
    if not isinstance(edges, gpd.GeoDataFrame):
        raise CoverageInputError(
            f"{what} must be a GeoDataFrame of street LineStrings (or a WalkNetwork), "
            f"got {type(edges).__name__}; e.g. osmnx.graph_to_gdfs(G, nodes=False)."
        )
    crs = _crs_of(edges, what)
    _check_metric(crs, what)
    geoms = np.asarray(edges.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        warn(
            f"{int(missing.sum()):,} of {len(edges):,} {what} have no geometry and carry no "
            "street length; they are ignored."
        )
    types = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(types, (1, 5))
    if wrong.any():
        labels = [str(i) for i in edges.index[wrong][:10]]
        raise CoverageInputError(
            f"{int(wrong.sum()):,} {what} are not LineStrings, index {few(labels)}; "
            "pass the street edges only (osmnx.graph_to_gdfs(G, nodes=False))."
        )
    out = edges.loc[~missing]
    keys = pd.Series(shapely.to_wkb(shapely.normalize(np.asarray(out.geometry.array))))
    dup = keys.duplicated().to_numpy()
    if dup.any():
        # A two-way street appears once per direction in a directed graph; keep one copy.
        logger.debug("dropped %d duplicate (reverse) edges of %d", int(dup.sum()), len(out))
        out = out.loc[~dup]
    out = out.copy()
    out.attrs["duplicate_edges_dropped"] = int(dup.sum())
    return out


def demand_from_polygons(
    polygons: gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    id_col: str | None = None,
    method: Literal["streets", "centroid"] = "streets",
    edges: gpd.GeoDataFrame | WalkNetwork | None = None,
    spacing_m: float = DEFAULT_DEMAND_SPACING_M,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Turn polygons with a population (census units, grid cells, hexagons) into points.

    Parameters
    ----------
    polygons
        (Multi)Polygons with a CRS and a population column.
    population_col
        Column with the number of people per polygon.
    id_col
        Column with polygon ids (unique); ``None`` uses row numbers. Becomes
        ``source_id``.
    method
        ``"streets"`` (default) spreads each polygon's population over the
        walkable streets inside it: the ``edges`` are clipped to the polygon,
        points are put along every clipped piece every ~``spacing_m`` (at least
        one per piece, at the middles of equal stretches), and each point gets
        the polygon's population times the share of the polygon's street length
        it stands for. A polygon with people but no street inside falls back to
        one unit at its interior point (one warning lists them). Units keep
        the polygon's ``estimate`` flag (False for census counts): the polygon
        totals are measured, only their placement along the streets is
        modelled, which ``attrs["allocation_note"]`` says.
        ``"centroid"`` puts one unit per polygon at its centroid when the centroid
        lies strictly inside the polygon, else at ``shapely.point_on_surface``
        (concave or multi-part polygons); ``estimate`` is False (or taken from an
        ``estimate`` column of the input).
    edges
        Street edges for ``"streets"``: a GeoDataFrame of LineStrings in a metric
        CRS (or a :class:`~coverage.network.WalkNetwork`). Pass the walkable ones;
        exact duplicate geometries (both directions of a two-way street) count once.
    spacing_m
        Distance between points along a street, in metres.
    group
        Group of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units (see the module docstring) in the edges' CRS for
        ``"streets"`` and in the polygons' CRS for ``"centroid"``. Ids are the
        polygon id for one-unit polygons and ``"<polygon id>#<k>"`` for spread ones.

    Raises
    ------
    CoverageInputError
        For bad polygons (see :func:`validate_demand`), a missing CRS, ``"streets"``
        without edges, or edges that are not projected lines.

    Warns
    -----
    CoverageWarning
        Naming the polygons with people but no street inside, which fell back to
        one unit at their interior point.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> cells = gpd.GeoDataFrame({"population": [400.0]}, geometry=[box(0, 0, 500, 500)],
    ...                          crs="EPSG:32650")
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(10, 100), (110, 100)]),
    ...                                      LineString([(10, 300), (310, 300)])],
    ...                            crs="EPSG:32650")
    >>> units = demand_from_polygons(cells, edges=streets)
    >>> units.groupby(units.geometry.y)["population"].sum().tolist()
    [100.0, 300.0]

    """
    _check_group(group)
    spacing_m = _check_spacing(spacing_m)
    if method not in ("streets", "centroid"):
        raise CoverageInputError(f"method must be 'streets' or 'centroid', got {method!r}.")
    if method == "streets" and edges is None:
        raise CoverageInputError(
            "method='streets' needs the street edges: pass edges= (a projected GeoDataFrame "
            "of LineStrings or a WalkNetwork), or use method='centroid'."
        )
    clean, ids, population = _validate(
        polygons,
        population_col=population_col,
        id_col=id_col,
        group_col=None,
        source_name="the polygons",
    )
    types = shapely.get_type_id(np.asarray(clean.geometry.array, dtype=object))
    if (types == 0).any():
        raise CoverageInputError(
            f"{int((types == 0).sum()):,} rows of the polygons are points, ids "
            f"{few(ids[types == 0].tolist())}; use read_demand for point data."
        )
    return _polygons_to_units(clean, ids, population, method=method, edges=edges, spacing_m=spacing_m, group=group)


def _polygons_to_units(
    clean: gpd.GeoDataFrame,
    ids: ObjectArray,
    population: FloatArray,
    *,
    method: Literal["streets", "centroid"],
    edges: gpd.GeoDataFrame | WalkNetwork | None,
    spacing_m: float,
    group: str,
) -> gpd.GeoDataFrame:
    """Turn validated polygons into units (see :func:`demand_from_polygons`)."""
    total = float(population.sum())
    given_estimate = (
        clean["estimate"].fillna(False).astype(bool).to_numpy()
        if "estimate" in clean.columns
        else np.zeros(len(clean), dtype=bool)
    )
    if method == "centroid":
        units = _units(
            demand_id=ids,
            group=group,
            population=population,
            estimate=given_estimate,
            source_id=ids,
            geometry=_interior_points(np.asarray(clean.geometry.array)),
            crs=clean.crs,
        )
        _check_totals(units, {group: total}, what="demand_from_polygons")
        return units

    if edges is None:
        raise CoverageInputError("method='streets' needs edges=.")
    started = time.perf_counter()
    streets = _edges_frame(edges)
    crs = streets.crs
    areas = np.asarray(clean.to_crs(crs).geometry.array, dtype=object)
    lines = np.asarray(streets.geometry.array, dtype=object)

    pieces, area_of, _ = _clip_lines(areas, lines)
    # Only polygons with people are spread; empty polygons keep one zero unit.
    spread = population[area_of] > 0
    pieces, area_of = pieces[spread], area_of[spread]
    _check_points_memory(pieces, spacing_m)
    points, piece_of, metres = _points_along(pieces, spacing_m)
    unit_area = area_of[piece_of]
    has_street = np.zeros(len(clean), dtype=bool)
    has_street[unit_area] = True
    lone = ~has_street
    fallback = lone & (population > 0)
    if fallback.any():
        warn(
            f"{int(fallback.sum()):,} of {len(clean):,} polygons with people have no street "
            f"of the edges inside them, ids {few(ids[fallback].tolist())}; each is counted "
            "as one unit at an interior point. Check that the edges cover the polygons."
        )
    lone_idx = np.flatnonzero(lone)
    spread_pop = _share(metres, unit_area, population)

    area_all = np.concatenate([unit_area, lone_idx])
    order = np.argsort(area_all, kind="stable")
    source = ids[area_all][order]
    demand_id = np.concatenate([_numbered(ids[unit_area]), ids[lone_idx]])[order]
    geometry = np.concatenate([points, _interior_points(areas[lone_idx])])[order]
    pop = np.concatenate([spread_pop, population[lone_idx]])[order]
    estimate = np.concatenate([given_estimate[unit_area], given_estimate[lone_idx]])
    units = _units(
        demand_id=demand_id,
        group=group,
        population=pop,
        estimate=estimate[order],
        source_id=source,
        geometry=geometry,
        crs=crs,
    )
    _check_totals(units, {group: total}, what="demand_from_polygons")
    per_polygon = np.bincount(
        area_all, weights=np.concatenate([spread_pop, population[lone_idx]]), minlength=len(clean)
    )
    if not np.allclose(per_polygon, population, rtol=_REL_TOL, atol=1e-6):
        worst = int(np.argmax(np.abs(per_polygon - population)))
        raise CoverageInternalError(
            f"demand_from_polygons: polygon {ids[worst]!r} holds {population[worst]!r} people "
            f"but its units sum to {per_polygon[worst]!r}. This is a bug; please report it."
        )
    units.attrs["allocation_note"] = _SPREAD_NOTE.format(spacing=spacing_m)
    if estimate.any():
        units.attrs["estimate_note"] = "Some input polygons carry estimated populations (estimate=True)."
    units.attrs["fallback_polygons"] = [str(i) for i in ids[fallback]]
    logger.debug(
        "spread %d polygons over %d street pieces -> %d units in %.2f s",
        len(clean),
        pieces.size,
        len(units),
        time.perf_counter() - started,
    )
    return units
