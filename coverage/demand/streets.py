"""Residents estimated from a density where there is no population data, spread along streets.

:func:`demand_from_streets` (formerly ``estimate_demand_along_streets``, still
importable under that name) multiplies a district density by the study area
and shares the total over residential-type streets, weighted by street type.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from coverage._defaults import DEFAULT_DEMAND_SPACING_M
from coverage._errors import CoverageInputError, EstimateWarning, warn
from coverage._types import ObjectArray
from coverage.network import WalkNetwork

from ._spread import _check_points_memory, _clip_lines, _numbered, _points_along, _share
from .polygons import _edges_frame
from .schema import (
    _check_group,
    _check_spacing,
    _check_totals,
    _crs_of,
    _units,
)

__all__ = ["DEFAULT_STREET_WEIGHTS", "RESIDENTIAL_HIGHWAYS", "demand_from_streets", "estimate_demand_along_streets"]

RESIDENTIAL_HIGHWAYS: tuple[str, ...] = (
    "residential",
    "living_street",
    "unclassified",
    "tertiary",
    "secondary",
    "primary",
    "service",
    "footway",
    "pedestrian",
    "path",
)

# Relative number of residents per metre of street, by OSM highway type, used by
# demand_from_streets. Homes front residential streets; arterials run
# through commercial strips and past walls; footways and paths are partly in
# residential compounds (Shenzhen's gated xiaoqu) and partly in parks.
DEFAULT_STREET_WEIGHTS: Mapping[str, float] = {
    "residential": 1.0,
    "living_street": 1.0,
    "unclassified": 0.75,
    "service": 0.5,
    "pedestrian": 0.5,
    "footway": 0.5,
    "tertiary": 0.5,
    "secondary": 0.25,
    "primary": 0.25,
    "path": 0.25,
}
_UNLISTED_STREET_WEIGHT = 0.5


def _highway_types(value: Any) -> list[str]:
    """Return the highway types of an edge (osmnx stores a list for merged edges)."""
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value)
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return [text]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [text]


def _study_area(
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None,
    lines: ObjectArray,
    crs: pyproj.CRS,
) -> BaseGeometry:
    if area is None:
        return shapely.convex_hull(shapely.multilinestrings(shapely.get_parts(lines)))
    if isinstance(area, gpd.GeoSeries | gpd.GeoDataFrame):
        _crs_of(area, "area")
        geom = area.to_crs(crs).union_all()
    elif isinstance(area, BaseGeometry):
        geom = area
    else:
        raise CoverageInputError(
            f"area must be a shapely polygon in the edges' CRS or a GeoSeries/GeoDataFrame, got {type(area).__name__}."
        )
    if geom.is_empty or shapely.get_type_id(geom) not in (3, 6):
        raise CoverageInputError(
            f"area must be a non-empty (Multi)Polygon, got {geom.geom_type}; for a district "
            "polygon intersected with the network, use district.intersection(hull)."
        )
    if not geom.is_valid:
        raise CoverageInputError("area polygon is invalid; repair it with shapely.make_valid.")
    return geom


def demand_from_streets(
    edges: gpd.GeoDataFrame | WalkNetwork,
    *,
    density_per_km2: float,
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    highway: Sequence[str] | None = RESIDENTIAL_HIGHWAYS,
    street_weights: Mapping[str, float] | None = None,
    spacing_m: float = DEFAULT_DEMAND_SPACING_M,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Estimate residents from a density where there is no population data.

    The total is ``density_per_km2`` x the study area (``area``, else the convex
    hull of the edges). It is spread over the streets of the ``highway`` types
    inside the area: points every ~``spacing_m`` along each clipped street,
    each weighted by the metres it stands for times the street type's weight in
    ``street_weights`` (default :data:`DEFAULT_STREET_WEIGHTS`: residential and
    living streets 1.0, unclassified 0.75, service, pedestrian, footway and
    tertiary 0.5, secondary, primary and path 0.25; a listed type without a
    weight gets 0.5). An edge with several types (merged by osmnx) takes the
    largest weight among its listed types.

    Parameters
    ----------
    edges
        Street edges: GeoDataFrame of LineStrings in a metric CRS with a
        ``highway`` column (or a :class:`~coverage.network.WalkNetwork`).
    density_per_km2
        Residents per km², e.g. ``FUTIAN_POPULATION_2020 / FUTIAN_AREA_KM2``.
    area
        Study area: a shapely polygon in the edges' CRS, or a GeoSeries /
        GeoDataFrame in any CRS (reprojected, unioned). Use the district polygon
        intersected with the network's hull so the total matches the streets.
    highway
        OSM highway types that residents live along; ``None`` uses every edge
        with weight 1 (no ``highway`` column needed).
    street_weights
        Relative residents per metre by highway type.
    spacing_m
        Distance between points along a street, in metres.
    group
        Group of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units in the edges' CRS, all ``estimate=True``; ``source_id`` is the
        edge's index label (``"u-v-key"`` for osmnx edges). ``attrs`` hold
        ``"estimate_note"`` (how it was estimated), ``"area_km2"``,
        ``"total_population"`` and ``"street_km"``.

    Raises
    ------
    CoverageInputError
        For a bad density, area or edges, or no street of the listed types inside
        the area.

    Warns
    -----
    EstimateWarning
        Always: the result is a density estimate, not data.

    Examples
    --------
    >>> import warnings
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> streets = gpd.GeoDataFrame({"highway": ["residential", "primary"]},
    ...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 500), (1000, 500)])],
    ...     crs="EPSG:32650")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", EstimateWarning)
    ...     units = demand_from_streets(streets, density_per_km2=10_000, area=box(0, -500, 1000, 500))
    >>> units.groupby(units.geometry.y)["population"].sum().round().tolist()
    [8000.0, 2000.0]

    """
    _check_group(group)
    spacing_m = _check_spacing(spacing_m)
    if not (
        isinstance(density_per_km2, int | float | np.number)
        and math.isfinite(float(density_per_km2))
        and float(density_per_km2) > 0
    ):
        raise CoverageInputError(
            f"density_per_km2 must be a positive number of residents per km², got "
            f"{density_per_km2!r}; e.g. FUTIAN_POPULATION_2020 / FUTIAN_AREA_KM2."
        )
    streets = _edges_frame(edges)
    crs = pyproj.CRS.from_user_input(streets.crs)
    weights_by_type = dict(DEFAULT_STREET_WEIGHTS if street_weights is None else street_weights)
    if highway is None:
        weight = np.ones(len(streets), dtype=np.float64)
        type_note = "all streets weighted equally"
    else:
        if "highway" not in streets.columns:
            raise CoverageInputError(
                "edges have no 'highway' column to choose residential streets by; "
                "pass highway=None to use every edge with equal weight."
            )
        listed = set(highway)
        weight = np.array(
            [
                max(
                    (weights_by_type.get(t, _UNLISTED_STREET_WEIGHT) for t in _highway_types(v) if t in listed),
                    default=0.0,
                )
                for v in streets["highway"].to_numpy()
            ],
            dtype=np.float64,
        )
        type_note = (
            "weighted by street type ("
            + ", ".join(f"{t} {weights_by_type.get(t, _UNLISTED_STREET_WEIGHT):g}" for t in highway)
            + ")"
        )
    if (weight < 0).any() or not np.isfinite(weight).all():
        raise CoverageInputError("street_weights must be finite and >= 0.")
    use = weight > 0
    lines = np.asarray(streets.geometry.array, dtype=object)
    study = _study_area(area, lines, crs)
    area_km2 = float(study.area) / 1e6
    total = float(density_per_km2) * area_km2
    pieces, _, line_of_piece = _clip_lines(np.array([study], dtype=object), lines[use])
    if pieces.size == 0:
        raise CoverageInputError(
            f"no street of the types {list(highway) if highway else 'any'} lies inside the "
            "study area; check the area's CRS and the highway types."
        )
    edge_index = np.flatnonzero(use)[line_of_piece]
    _check_points_memory(pieces, spacing_m)
    points, piece_of, metres = _points_along(pieces, spacing_m)
    unit_edge = edge_index[piece_of]
    w = metres * weight[unit_edge]
    population = _share(w, np.zeros(w.size, dtype=np.int64), np.array([total]))
    labels = streets.index[unit_edge]
    source = np.array(
        ["-".join(map(str, lab)) if isinstance(lab, tuple) else str(lab) for lab in labels],
        dtype=object,
    )
    units = _units(
        demand_id=_numbered(source),
        group=group,
        population=population,
        estimate=True,
        source_id=source,
        geometry=points,
        crs=crs,
    )
    _check_totals(units, {group: total}, what="demand_from_streets")
    street_km = float(metres.sum()) / 1000
    note = (
        f"Estimated, not census data: {float(density_per_km2):,.0f} residents/km² x "
        f"{area_km2:,.2f} km² study area = {total:,.0f} residents, spread along "
        f"{street_km:,.1f} km of streets ({type_note}), a point every ~{spacing_m:g} m."
    )
    units.attrs.update(estimate_note=note, area_km2=area_km2, total_population=total, street_km=street_km)
    warn(note, EstimateWarning)
    return units


estimate_demand_along_streets = demand_from_streets
"""The former name of :func:`demand_from_streets` (same function)."""
